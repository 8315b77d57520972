// Package graph is the GraphQL layer: the schema (schema/*.graphqls), the
// gqlgen-generated executor (generated/), thin resolvers that parse arguments
// and call the services, per-request dataloaders, the error presenter and the
// handler configuration (limits, caches, transports).
package graph

import (
	"context"

	"healthcode"
	"healthcode/workcal"
)

// Resolver is the root resolver. It holds the services; resolvers never
// touch storage or check permissions themselves.
type Resolver struct {
	AuthService    healthcode.AuthService
	RegionService  healthcode.RegionService
	StaffService   healthcode.StaffService
	AuditService   healthcode.AuditService
	AlertService   healthcode.AlertService
	CodeService    healthcode.CodeService
	FactService    healthcode.FactService
	Colours        healthcode.ColourRequestService
	RuleSetService healthcode.RuleSetService
	Credentials    healthcode.CredentialService
	TicketService  healthcode.TicketService
	ScanService    healthcode.ScanService
	Checkpoints    healthcode.CheckpointService
	Supervision    healthcode.SupervisionService
	Subsystems     healthcode.SubsystemService
	MachineClients healthcode.MachineClientService
	RankingService healthcode.RankingService
	Indicators     healthcode.IndicatorService
	Privacy        healthcode.PrivacyService
	// Calendar answers workCalendar.
	Calendar *workcal.Calendar
	// DevClock moves the clock of dev mode (persisted); nil outside it.
	DevClock healthcode.DevClockService
	// DevMessages reads the dev SMS outbox; nil outside dev mode.
	DevSMS func(ctx context.Context, phone string) ([]healthcode.DevMessage, error)
}
