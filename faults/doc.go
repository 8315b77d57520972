// Package faults holds the fault tests of the platform (`make test-faults`,
// run by CI after `make test`): real `healthcode serve` and `healthcode
// worker` processes (two of each, outside dev mode) against one PostgreSQL
// and one Redis started by the harness, with an SMS gateway stand-in
// (sms/smstest) that the real gateway adapter talks to over HTTP. First, with
// nothing failing, the two replicas and the two workers are checked to behave
// as one process (a subscriber on one replica sees the changes made on the
// other, a grant revoked on one is refused on the other at the next request,
// each periodic slot and outbox row is handed over and run once). Then the
// tests kill and stop those processes and servers — a worker killed mid-batch and
// mid-SMS, Redis killed and restarted empty with work queued, PostgreSQL
// restarted and stopped for 20 s, SIGTERM of serve and worker, a periodic
// slot missed while no worker ran — and check that every affected code ends
// as a fresh evaluation gives it, every SMS is delivered exactly once, a
// revocation holds across replicas, and subscribers miss no ticket event.
// They print what they measure (takeover time, revocation lag, the answers
// during an outage, SMS throughput against the gateway's latency).
//
// The tests carry the build tag faults and need the binary (make build); the
// harness starts its own servers:
//
//	make test-faults     # = make build && go test -tags faults -count=1 -v ./faults
package faults
