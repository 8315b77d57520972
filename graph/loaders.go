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
}

type loadersKey struct{}

// LoaderMiddleware puts a fresh set of loaders in each request's context.
func LoaderMiddleware(regions healthcode.RegionService, staff healthcode.StaffService, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &Loaders{
			Region:      dataloadgen.NewLoader(regions.FindRegions, dataloadgen.WithWait(time.Millisecond)),
			RegionName:  dataloadgen.NewLoader(regions.RegionNames, dataloadgen.WithWait(time.Millisecond)),
			Attribution: dataloadgen.NewLoader(staff.Attributions, dataloadgen.WithWait(time.Millisecond)),
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
