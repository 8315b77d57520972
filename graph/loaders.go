package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/vikstrous/dataloadgen"

	"healthcode"
)

// Loaders batch the lookups of one request. A new set is made per request,
// so nothing cached crosses callers.
type Loaders struct {
	Region *dataloadgen.Loader[string, *healthcode.Region]
	// RegionName labels regions by code, without the caller's region grants.
	RegionName *dataloadgen.Loader[string, string]
	// Attribution describes actors by subject (staff callers only).
	Attribution *dataloadgen.Loader[string, *healthcode.Attribution]
	// Code, Grants and Steps read what a mutation of the same request may
	// change, so they batch the lookups of a page without caching them.
	Code   *dataloadgen.Loader[int64, *healthcode.Code]
	Grants *dataloadgen.Loader[int64, []*healthcode.Grant]
	Steps  *dataloadgen.Loader[int64, []*healthcode.TicketStep]
	// Rating reads a ticket's rating, which the request may add
	// (rateTicket), likewise without caching it.
	Rating *dataloadgen.Loader[int64, *healthcode.TicketRating]
}

type loadersKey struct{}

// DefaultLoaderWait is how long a request's dataloaders gather keys before
// they read a batch, unless Options.LoaderWait says otherwise.
const DefaultLoaderWait = time.Millisecond

// LoaderMiddleware puts a fresh set of loaders over res's services in each
// request's context; they gather keys for wait (DefaultLoaderWait when 0)
// before each batch. Entry points reach it through NewHandler.
func LoaderMiddleware(res *Resolver, wait time.Duration, next http.Handler) http.Handler {
	if wait <= 0 {
		wait = DefaultLoaderWait
	}
	gather := dataloadgen.WithWait(wait)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &Loaders{
			Region:      dataloadgen.NewLoader(res.RegionService.FindRegions, gather),
			RegionName:  dataloadgen.NewLoader(res.RegionService.RegionNames, gather),
			Attribution: dataloadgen.NewLoader(res.StaffService.Attributions, gather),
			Code:        dataloadgen.NewLoader(res.CodeService.CodesOf, gather, dataloadgen.WithoutCache()),
			Grants:      dataloadgen.NewLoader(res.StaffService.GrantsOfStaff, gather, dataloadgen.WithoutCache()),
			Steps:       dataloadgen.NewLoader(res.TicketService.StepsOfTickets, gather, dataloadgen.WithoutCache()),
			Rating:      dataloadgen.NewLoader(res.TicketService.Ratings, gather, dataloadgen.WithoutCache()),
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadersKey{}, l)))
	})
}

func loaders(ctx context.Context) *Loaders {
	l, _ := ctx.Value(loadersKey{}).(*Loaders)
	return l
}

// loadRegion loads a region through the request's loader, or directly when
// there is none (tests calling resolvers without the middleware).
func (r *Resolver) loadRegion(ctx context.Context, code string) (*healthcode.Region, error) {
	if l := loaders(ctx); l != nil {
		return l.Region.Load(ctx, code)
	}
	return r.RegionService.FindRegion(ctx, code)
}

// regionName names a region through the request's loader ("" for an empty
// or unknown code).
func (r *Resolver) regionName(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	if l := loaders(ctx); l != nil {
		return l.RegionName.Load(ctx, code)
	}
	names, errs := r.RegionService.RegionNames(ctx, []string{code})
	return names[0], errs[0]
}

// attribution describes the actor subject through the request's loader: nil
// for an empty subject and for callers who are not staff (residents learn no
// staff member's name).
func (r *Resolver) attribution(ctx context.Context, subject string) (*healthcode.Attribution, error) {
	if subject == "" {
		return nil, nil
	}
	var a *healthcode.Attribution
	var err error
	if l := loaders(ctx); l != nil {
		a, err = l.Attribution.Load(ctx, subject)
	} else {
		as, errs := r.StaffService.Attributions(ctx, []string{subject})
		a, err = as[0], errs[0]
	}
	if code := healthcode.ErrorCode(err); code == healthcode.EFORBIDDEN || code == healthcode.EUNAUTHENTICATED {
		return nil, nil
	}
	return a, err
}

// code loads a person's current code through the request's loader (a page
// of persons: one batch, its due codes re-evaluated together), or directly
// when there is none.
func (r *Resolver) code(ctx context.Context, pid int64) (*healthcode.Code, error) {
	if l := loaders(ctx); l != nil {
		return l.Code.Load(ctx, pid)
	}
	codes, errs := r.CodeService.CodesOf(ctx, []int64{pid})
	return codes[0], errs[0]
}

// grants loads an account's grants through the request's loader.
func (r *Resolver) grants(ctx context.Context, staffID int64) ([]*healthcode.Grant, error) {
	if l := loaders(ctx); l != nil {
		return l.Grants.Load(ctx, staffID)
	}
	return r.StaffService.GrantsOf(ctx, staffID)
}

// steps loads a ticket's history through the request's loader.
func (r *Resolver) steps(ctx context.Context, ticketID int64) ([]*healthcode.TicketStep, error) {
	if l := loaders(ctx); l != nil {
		return l.Steps.Load(ctx, ticketID)
	}
	return r.TicketService.Steps(ctx, ticketID)
}

// rating loads a ticket's rating through the request's loader.
func (r *Resolver) rating(ctx context.Context, ticketID int64) (*healthcode.TicketRating, error) {
	if l := loaders(ctx); l != nil {
		return l.Rating.Load(ctx, ticketID)
	}
	ratings, errs := r.TicketService.Ratings(ctx, []int64{ticketID})
	return ratings[0], errs[0]
}
