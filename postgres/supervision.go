package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"healthcode"
	"healthcode/rules"
)

// DefaultJointMeetingDue is the notice's deadline for joint meeting lists:
// before 2 April 2020 (四(一)).
var DefaultJointMeetingDue = time.Date(2020, 4, 2, 0, 0, 0, 0, rules.CST)

// SupervisionService implements healthcode.SupervisionService.
type SupervisionService struct {
	DB *DB
	// JointMeetingDue is the deadline of joint meeting lists
	// (JOINT_MEETING_DUE); zero means DefaultJointMeetingDue.
	JointMeetingDue time.Time
}

var _ healthcode.SupervisionService = (*SupervisionService)(nil)

func (s *SupervisionService) due() time.Time {
	if s.JointMeetingDue.IsZero() {
		return DefaultJointMeetingDue
	}
	return s.JointMeetingDue
}

// SubmitJointMeetingList implements healthcode.SupervisionService.
func (s *SupervisionService) SubmitJointMeetingList(ctx context.Context, region string, members []healthcode.JointMeetingMember) (*healthcode.JointMeetingList, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if lv, ok := healthcode.LevelOfCode(region); !ok || (lv != healthcode.LevelCity && lv != healthcode.LevelCounty) {
		return nil, healthcode.Errorf(healthcode.EINVALID, "联席会议名单由市、县（区）报送")
	}
	if len(members) == 0 || len(members) > 100 {
		return nil, healthcode.Errorf(healthcode.EINVALID, "名单应有 1 至 100 名成员")
	}
	for i := range members {
		m := &members[i]
		m.Department, m.Name, m.Role, m.Contact = strings.TrimSpace(m.Department), strings.TrimSpace(m.Name), strings.TrimSpace(m.Role), strings.TrimSpace(m.Contact)
		for _, f := range []string{m.Department, m.Name, m.Role, m.Contact} {
			if n := utf8.RuneCountInString(f); n == 0 || n > 100 {
				return nil, healthcode.Errorf(healthcode.EINVALID, "第 %d 名成员的单位、姓名、职务和联系方式都须填写，且不超过 100 个字", i+1)
			}
		}
	}
	if err := s.DB.authorize(ctx, a, healthcode.PermReportSubmit, region); err != nil {
		return nil, err
	}
	body, err := json.Marshal(members)
	if err != nil {
		return nil, err
	}
	out := &healthcode.JointMeetingList{RegionCode: region, Members: members, SubmittedBy: a.Subject(), DueAt: s.due()}
	err = s.DB.InTx(ctx, func(tx *Tx) error {
		var earlier bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM joint_meeting_lists WHERE region_code = $1 AND on_time)", region).Scan(&earlier); err != nil {
			return err
		}
		out.SubmittedAt, out.OnTime = tx.Now, earlier || !tx.Now.After(out.DueAt)
		if err := tx.QueryRow(ctx, `INSERT INTO joint_meeting_lists (region_code, region_path, members, submitted_by, submitted_at, due_at, on_time)
			VALUES ($1, $2::text::ltree, $3, $4, $5, $6, $7) RETURNING id`, region, ltreePath(region), body, a.Subject(), tx.Now,
			out.DueAt, out.OnTime).Scan(&out.ID); err != nil {
			return fmt.Errorf("store joint meeting list: %w", err)
		}
		tx.MarkIndicatorDays(tx.Now) // joint meeting lists on time, from today on
		return tx.Audit(ctx, healthcode.AuditRecord{Role: s.DB.roleFor(ctx, a, healthcode.PermReportSubmit, region), RegionCode: region,
			Action: "report.joint_meeting", Object: "region:" + region, Detail: map[string]any{"members": len(members), "onTime": out.OnTime}})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// JointMeetingLists implements healthcode.SupervisionService.
func (s *SupervisionService) JointMeetingLists(ctx context.Context, region string) ([]*healthcode.JointMeetingList, error) {
	a, err := staffOnly(ctx)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = healthcode.ProvinceCode
	}
	if err := healthcode.ValidRegionCode(region); err != nil {
		return nil, err
	}
	if !s.DB.may(ctx, a, healthcode.PermIndicatorRead, region) {
		if err := s.DB.authorize(ctx, a, healthcode.PermReportSubmit, region); err != nil {
			return nil, err
		}
	}
	rows, err := s.DB.Pool.Query(ctx, `SELECT r.code, COALESCE(l.id, 0), COALESCE(l.members, '[]'::jsonb), COALESCE(l.submitted_by, ''),
		l.submitted_at, COALESCE(l.on_time, false)
		FROM regions r
		LEFT JOIN LATERAL (SELECT * FROM joint_meeting_lists j WHERE j.region_code = r.code ORDER BY j.submitted_at DESC LIMIT 1) l ON true
		WHERE r.path <@ $1::text::ltree AND r.level IN ('CITY', 'COUNTY') ORDER BY r.code`, ltreePath(region))
	if err != nil {
		return nil, fmt.Errorf("list joint meeting lists: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*healthcode.JointMeetingList, error) {
		l := &healthcode.JointMeetingList{DueAt: s.due()}
		var members []byte
		var at *time.Time
		if err := r.Scan(&l.RegionCode, &l.ID, &members, &l.SubmittedBy, &at, &l.OnTime); err != nil {
			return nil, err
		}
		if at != nil {
			l.SubmittedAt = *at
		}
		return l, json.Unmarshal(members, &l.Members)
	})
}
