package graph

import (
	"context"

	"healthcode"
	"healthcode/graph/model"
)

// loginPayload authenticates the new token once to describe its holder; the
// fields under the payload resolve as that holder (sessionFields).
func (r *Resolver) loginPayload(ctx context.Context, s *healthcode.Session) (*model.LoginPayload, error) {
	a, err := r.AuthService.Authenticate(ctx, s.Token)
	if err != nil {
		return nil, err
	}
	me, err := r.me(healthcode.NewContextWithActor(ctx, a), a)
	if err != nil {
		return nil, err
	}
	return &model.LoginPayload{Token: s.Token, ExpiresAt: s.ExpiresAt, Me: me, Actor: a,
		PhoneVerificationRequired: me.Staff != nil && !me.Staff.PhoneVerified}, nil
}

func (r *Resolver) me(ctx context.Context, a *healthcode.Actor) (*model.Me, error) {
	me := &model.Me{Kind: a.Kind, ID: a.ID, Name: a.Name, Grants: []*healthcode.Grant{}}
	if a.Kind != healthcode.ActorStaff {
		return me, nil
	}
	st, err := r.StaffService.FindStaff(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	grants, err := r.StaffService.GrantsOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	me.Staff, me.Grants = st, grants
	return me, nil
}
