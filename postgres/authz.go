package postgres

import (
	"context"

	"healthcode"
)

// deniedMessages say, in the words a staff member reads, what the caller may
// not do to an object it can see (docs/roles.md: FORBIDDEN and NOT_FOUND).
var deniedMessages = map[healthcode.Permission]string{
	healthcode.PermPersonDeclare:    "无权为该人员代为申报或打印纸质健康码",
	healthcode.PermFactWrite:        "无权录入或撤销该人员的事实记录",
	healthcode.PermDesignate:        "无权对该人员人工赋码",
	healthcode.PermDesignateApprove: "无权审核该人员的人工赋码",
	healthcode.PermPassCardReview:   "无权审核该健康通行卡申请",
	healthcode.PermFeverHandle:      "无权处理该发热报告",
}

// denied is the FORBIDDEN answer for perm on an object the caller can see.
func denied(perm healthcode.Permission) error {
	if msg, ok := deniedMessages[perm]; ok {
		return healthcode.Errorf(healthcode.EFORBIDDEN, "%s", msg)
	}
	return healthcode.Errorf(healthcode.EFORBIDDEN, "无权对该对象执行此操作")
}

// authorizeSeen checks perm at region, the region of one object (a person, a
// pass-card application, a fever report). When the caller lacks perm it
// answers FORBIDDEN (denied) if the caller holds one of see at region: it can
// see the object, so saying that the object does not exist would hide nothing
// and mislead. Otherwise the object is outside the caller's jurisdiction and
// answers NOT_FOUND with notFound, like an unknown id, so that ids cannot be
// probed. Other errors (INTERNAL, UNAUTHENTICATED) pass through.
func (db *DB) authorizeSeen(ctx context.Context, a *healthcode.Actor, perm healthcode.Permission, region, notFound string,
	see ...healthcode.Permission) error {
	err := db.Authz.Authorize(ctx, a, perm, region)
	if healthcode.ErrorCode(err) != healthcode.EFORBIDDEN {
		return err
	}
	for _, p := range see {
		if p == perm {
			continue
		}
		switch seeErr := db.Authz.Authorize(ctx, a, p, region); healthcode.ErrorCode(seeErr) {
		case "":
			return denied(perm)
		case healthcode.EFORBIDDEN:
		default:
			return seeErr
		}
	}
	return healthcode.Errorf(healthcode.ENOTFOUND, "%s", notFound)
}
