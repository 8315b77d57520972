package graph

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"healthcode"
	"healthcode/graph/model"
)

// RateRule limits one root field (a query, mutation or subscription). Each
// call of the field — each alias — counts one event under each key that
// applies: the caller's account, the client address, and the key Arg
// derives from the arguments. A zero Limit does not apply.
type RateRule struct {
	PerAccount healthcode.Limit
	PerAddress healthcode.Limit
	// Arg derives a key from the field's arguments ("" for none), limited
	// by PerArg: the credit code of a registration.
	Arg    func(args map[string]any) string
	PerArg healthcode.Limit
	// FailClosed refuses the field (UNAVAILABLE) when the limiter cannot be
	// reached; otherwise the call goes ahead (logged) — for fields whose
	// availability matters more, or that have limits of their own in the
	// database.
	FailClosed bool
}

// DefaultRateRule applies to every root field without a rule of its own:
// generous, since many residents share one carrier address.
var DefaultRateRule = RateRule{
	PerAccount: healthcode.Limit{Events: 300, Per: time.Minute},
	PerAddress: healthcode.Limit{Events: 3000, Per: time.Minute},
}

// DefaultRateLimits is the table of the public operations (no login), the
// residents' costly ones and the staff's lookups of persons. docs/api.md
// lists it; Options.RateLimits replaces it.
var DefaultRateLimits = map[string]RateRule{
	// Public. Logins have their own throttles in the database (per name and
	// address, per phone) and the password gate, so they fail open.
	"login":          {PerAddress: healthcode.Limit{Events: 30, Per: 10 * time.Minute}},
	"loginResident":  {PerAddress: healthcode.Limit{Events: 30, Per: 10 * time.Minute}},
	"requestSmsCode": {PerAddress: healthcode.Limit{Events: 10, Per: time.Minute}},
	// Public reference data: the region names of the registration form's
	// cascader, one call per level opened.
	"publicRegions": {PerAccount: healthcode.Limit{Events: 120, Per: time.Minute}, PerAddress: healthcode.Limit{Events: 600, Per: time.Minute}},
	"registerInstitution": {
		PerAccount: healthcode.Limit{Events: 5, Per: time.Hour},
		PerAddress: healthcode.Limit{Events: 5, Per: time.Hour},
		Arg:        registrationCreditCode, PerArg: healthcode.Limit{Events: 3, Per: 24 * time.Hour},
		FailClosed: true,
	},
	// Checkpoints verify codes all day: open when the limiter is down.
	"verifyCode": {PerAccount: healthcode.Limit{Events: 120, Per: time.Minute},
		PerAddress: healthcode.Limit{Events: 600, Per: time.Minute}},
	// Residents.
	"myCode":       {PerAccount: healthcode.Limit{Events: 30, Per: time.Minute}, PerAddress: DefaultRateRule.PerAddress},
	"myCredential": {PerAccount: healthcode.Limit{Events: 30, Per: time.Minute}, PerAddress: DefaultRateRule.PerAddress},
	"fileAppeal":   {PerAccount: healthcode.Limit{Events: 10, Per: time.Hour}, PerAddress: DefaultRateRule.PerAddress},
	// Staff lookups of persons: closed when the limiter is down.
	"persons":      {PerAccount: healthcode.Limit{Events: 60, Per: time.Minute}, FailClosed: true},
	"person":       {PerAccount: healthcode.Limit{Events: 120, Per: time.Minute}, FailClosed: true},
	"findPersons":  {PerAccount: healthcode.Limit{Events: 60, Per: time.Minute}, FailClosed: true},
	"codeHistory":  {PerAccount: healthcode.Limit{Events: 120, Per: time.Minute}, FailClosed: true},
	"personFacts":  {PerAccount: healthcode.Limit{Events: 120, Per: time.Minute}, FailClosed: true},
	"unmaskPerson": {PerAccount: healthcode.Limit{Events: 20, Per: time.Hour}, FailClosed: true},
}

// registrationCreditCode is the credit code of a registerInstitution call.
func registrationCreditCode(args map[string]any) string {
	var code string
	switch in := args["input"].(type) {
	case model.RegisterInstitutionInput:
		code = in.CreditCode
	case *model.RegisterInstitutionInput:
		code = in.CreditCode
	}
	return strings.ToUpper(strings.TrimSpace(code))
}

// rateLimitFields is the field middleware that applies the table to the
// root fields: the rules that fail closed count in limiter (exact, shared by
// the replicas), the others in approx when it is set (ratelimit.Local: no
// round trip per event, shared within a bound).
func rateLimitFields(limiter, approx healthcode.RateLimiter, table map[string]RateRule, log *slog.Logger) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil || fc.Field.Field == nil || (fc.Object != "Query" && fc.Object != "Mutation" && fc.Object != "Subscription") {
			return next(ctx)
		}
		name := fc.Field.Name
		if strings.HasPrefix(name, "__") {
			return next(ctx)
		}
		rule, ok := table[name]
		if !ok {
			rule = DefaultRateRule
		}
		type check struct {
			key   string
			limit healthcode.Limit
		}
		var checks []check
		if a := healthcode.ActorFromContext(ctx); a != nil && rule.PerAccount.Events > 0 {
			checks = append(checks, check{"acct:" + a.Subject() + ":" + name, rule.PerAccount})
		}
		if addr := healthcode.RequestInfoFromContext(ctx).ClientAddr; addr != "" && rule.PerAddress.Events > 0 {
			checks = append(checks, check{"addr:" + addr + ":" + name, rule.PerAddress})
		}
		if rule.Arg != nil && rule.PerArg.Events > 0 {
			if k := rule.Arg(fc.Args); k != "" {
				checks = append(checks, check{"arg:" + name + ":" + k, rule.PerArg})
			}
		}
		lim := limiter
		if approx != nil && !rule.FailClosed {
			lim = approx
		}
		for _, c := range checks {
			wait, err := lim.Allow(ctx, c.key, c.limit)
			if err != nil {
				if rule.FailClosed {
					log.WarnContext(ctx, "rate limiter unavailable: refusing", "field", name, "err", err.Error())
					return nil, healthcode.ErrUnavailable
				}
				log.WarnContext(ctx, "rate limiter unavailable: allowing", "field", name, "err", err.Error())
				return next(ctx)
			}
			if wait > 0 {
				log.InfoContext(ctx, "rate limited", "field", name, "key", strings.SplitN(c.key, ":", 2)[0],
					"retry_after", wait.String())
				return nil, healthcode.RateLimited(wait)
			}
		}
		return next(ctx)
	}
}

// ParseRateLimits reads RATE_LIMITS: comma-separated FIELD:SCOPE=EVENTS/PERIOD
// over DefaultRateLimits, SCOPE one of account, address or arg (a field
// without a rule of its own starts from DefaultRateRule), e.g.
// "login:address=300/10m" for logins behind one NAT. "" gives the defaults.
// For the process configuration; errors are EINVALID with the bad part.
func ParseRateLimits(s string) (map[string]RateRule, error) {
	out := make(map[string]RateRule, len(DefaultRateLimits))
	for k, v := range DefaultRateLimits {
		out[k] = v
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		bad := healthcode.Errorf(healthcode.EINVALID,
			"限流配置 %q 应为 字段:范围=次数/时间窗（如 login:address=300/10m），范围为 account、address 或 arg，时间窗 1s 至 24h",
			healthcode.Truncate(part, 40))
		key, value, ok := strings.Cut(part, "=")
		field, scope, ok2 := strings.Cut(strings.TrimSpace(key), ":")
		count, window, ok3 := strings.Cut(strings.TrimSpace(value), "/")
		n, err := strconv.Atoi(strings.TrimSpace(count))
		per, perr := time.ParseDuration(strings.TrimSpace(window))
		field = strings.TrimSpace(field)
		if !ok || !ok2 || !ok3 || field == "" || err != nil || n < 1 || perr != nil || per < time.Second || per > 24*time.Hour {
			return nil, bad
		}
		rule, known := out[field]
		if !known {
			rule = DefaultRateRule
		}
		limit := healthcode.Limit{Events: n, Per: per}
		switch strings.TrimSpace(scope) {
		case "account":
			rule.PerAccount = limit
		case "address":
			rule.PerAddress = limit
		case "arg":
			if rule.Arg == nil {
				return nil, bad
			}
			rule.PerArg = limit
		default:
			return nil, bad
		}
		out[field] = rule
	}
	return out, nil
}
