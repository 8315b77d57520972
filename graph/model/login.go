package model

import (
	"time"

	"healthcode"
)

// LoginPayload answers login and loginResident: the new session's token and
// its holder. Actor is the new session's actor; the GraphQL handler resolves
// every field under the payload as that session (the caller of the mutation
// may have had none, or another one).
type LoginPayload struct {
	// The bearer token: send it as `Authorization: Bearer <token>`.
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	Me        *Me       `json:"me"`
	// PhoneVerificationRequired: a staff account without a verified phone.
	PhoneVerificationRequired bool `json:"phoneVerificationRequired"`
	// Actor is the new session's actor (not part of the schema).
	Actor *healthcode.Actor `json:"-"`
}

// SessionActor returns the actor the payload's fields resolve as.
func (p *LoginPayload) SessionActor() *healthcode.Actor { return p.Actor }
