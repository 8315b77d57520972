package postgres

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"healthcode"
)

// ticketHub fans the `tickets` notifications (a ticket id each time a ticket
// changes, from any process) out to this process's queue subscribers over one
// listening connection, started with the first subscriber.
type ticketHub struct {
	once sync.Once
	mu   sync.Mutex
	subs map[chan int64]struct{}
}

func (h *ticketHub) subscribe(db *DB) (chan int64, func()) {
	h.once.Do(func() {
		h.subs = map[chan int64]struct{}{}
		go h.listen(db)
	})
	ch := make(chan int64, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// listen holds a dedicated connection (outside the pool, so closing the
// pool never waits for it) listening on `tickets` for the life of the
// process, reconnecting with backoff; it stops when the database is gone.
func (h *ticketHub) listen(db *DB) {
	ctx := context.Background()
	backoff := 100 * time.Millisecond
	for {
		err := func() error {
			conn, err := pgx.ConnectConfig(ctx, db.Pool.Config().ConnConfig.Copy())
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "LISTEN tickets"); err != nil {
				return err
			}
			backoff = 100 * time.Millisecond
			for {
				n, err := conn.WaitForNotification(ctx)
				if err != nil {
					return err
				}
				id, err := strconv.ParseInt(n.Payload, 10, 64)
				if err != nil {
					continue
				}
				h.mu.Lock()
				for ch := range h.subs {
					select {
					case ch <- id:
					default: // a slow subscriber misses an update; its next one refreshes it
					}
				}
				h.mu.Unlock()
			}
		}()
		if pgCode(err) == "3D000" {
			return // the database was dropped (tests)
		}
		if db.Logger != nil {
			db.Logger.Warn("ticket listener reconnecting", "err", err)
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 10*time.Second)
	}
}

// SubscribeQueue implements healthcode.TicketService.
func (s *TicketService) SubscribeQueue(ctx context.Context, unitID int64) (<-chan *healthcode.Ticket, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	visible, err := s.visible(ctx, a, healthcode.PermTicketDispatch, healthcode.PermTicketSupervise, healthcode.PermTicketHandle)
	if err != nil {
		return nil, err
	}
	if len(visible) == 0 {
		return nil, healthcode.ErrForbidden
	}
	ids, cancel := s.hub.subscribe(s.DB)
	out := make(chan *healthcode.Ticket, 16)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-ids:
				// Each change is checked against the subscriber's own grants.
				t, err := s.FindTicket(ctx, id)
				if err != nil || (unitID != 0 && (t.Unit == nil || t.Unit.ID != unitID)) {
					continue
				}
				select {
				case out <- t:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
