// Package hotline holds the lifecycle of a 12320 hotline ticket (SPEC §5,
// 积极回应诉求 of the 2020 notice) as a pure state machine: the rule table
// Rules, the transition function Apply and AllowedActions for the user
// interface. It performs no I/O, reads no clock and keeps no state; the
// ticket service loads a Ticket, calls Apply with the caller's lifecycle Role
// and Input, and in one transaction stores Step.Next, appends the step to the
// ticket's history (DESIGN principle 4) and performs Step.Effects (deadline
// clocks, notifications through the outbox, fact corrections for code
// appeals).
//
// Deadlines, routing (属地转办), duplicate detection and masking of personal
// data are the service's concern; docs/hotline.md describes them together
// with the state machine.
//
// The package depends only on the standard library and the root package
// healthcode (for error codes, and the root type of a new ticket, which
// ValidateNew checks together with this package's enums).
package hotline
