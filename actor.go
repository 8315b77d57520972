package healthcode

import (
	"context"
	"strconv"
)

// ActorKind says how a caller authenticated.
type ActorKind string

// Actor kinds.
const (
	ActorStaff    ActorKind = "STAFF"    // username + password
	ActorResident ActorKind = "RESIDENT" // phone + SMS code
	ActorMachine  ActorKind = "MACHINE"  // an API key: a city sub-system's, or a medical institution's machine client
	ActorSystem   ActorKind = "SYSTEM"   // workers and the CLI acting on their own behalf
)

// Actor is the authenticated caller of a service method. Services read it from
// the context; entry points (HTTP middleware, workers, CLI) put it there.
type Actor struct {
	Kind ActorKind
	// ID is the staff account id, resident account id or API key id.
	ID int64
	// Name is the username, masked phone or API key name, for logs and audit.
	Name string
	// SessionID is the session (or API key) that authenticated this call.
	SessionID int64
	// RegionCode is the region an API key is scoped to (machines only): a
	// sub-system's city, or the region a machine client records for.
	RegionCode string
	// InstitutionID is the medical institution of a machine client key
	// (role MEDICAL_CLIENT); 0 for a city sub-system's key (SUBSYSTEM).
	InstitutionID int64
	// Prefetched is what the lookup of a resident's session read ahead in
	// the same statement for the request (the resident's own code page), or
	// nil. Opaque outside the service implementation that set it, which uses
	// it only within the read operation of the request that looked the
	// session up (HasRequestMemo) and shortly after the lookup; written
	// before the actor is shared, never changed after.
	Prefetched any
}

// Subject is the casbin subject of the actor ("staff:12", "resident:7", ...).
func (a *Actor) Subject() string {
	if a == nil {
		return ""
	}
	switch a.Kind {
	case ActorStaff:
		return "staff:" + strconv.FormatInt(a.ID, 10)
	case ActorResident:
		return "resident:" + strconv.FormatInt(a.ID, 10)
	case ActorMachine:
		return "apikey:" + strconv.FormatInt(a.ID, 10)
	}
	return "system"
}

// MachineRole is the role of a machine actor: MEDICAL_CLIENT for a medical
// institution's machine client, SUBSYSTEM for a city sub-system's key.
func (a *Actor) MachineRole() Role {
	if a.InstitutionID != 0 {
		return RoleMedicalClient
	}
	return RoleSubsystem
}

// SystemActor is the actor of scheduled work and CLI maintenance commands.
var SystemActor = &Actor{Kind: ActorSystem, Name: "system"}

type actorKey struct{}

// NewContextWithActor returns a context carrying the actor. Only entry points
// call it, after authenticating the caller.
func NewContextWithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFromContext returns the actor in ctx, or nil for an anonymous caller.
func ActorFromContext(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}

// RequestInfo describes the network request behind a call, for rate limits,
// logs and audit records. Entry points put it in the context for every
// request, authenticated or not.
type RequestInfo struct {
	ClientAddr string
	RequestID  string
}

type requestInfoKey struct{}

// NewContextWithRequestInfo returns a context carrying info. Only entry points call it.
func NewContextWithRequestInfo(ctx context.Context, info RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFromContext returns the request info in ctx (zero when absent).
func RequestInfoFromContext(ctx context.Context) RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(RequestInfo)
	return info
}
