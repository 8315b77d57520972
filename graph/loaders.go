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
}

type loadersKey struct{}

// LoaderMiddleware puts a fresh set of loaders in each request's context.
func LoaderMiddleware(regions healthcode.RegionService, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &Loaders{
			Region: dataloadgen.NewLoader(regions.FindRegions, dataloadgen.WithWait(time.Millisecond)),
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
