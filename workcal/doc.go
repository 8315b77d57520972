// Package workcal is the working-time calendar of the 12320 hotline (SPEC
// §5): which days are working days, and when a sign, reply or callback
// deadline expires, when to warn before it and how much of it is used.
//
// The package is pure: it reads only its embedded data, keeps no clock and
// does no other I/O. It depends on the standard library and the root package
// (for error codes). Every day, working hour and deadline is reckoned in
// China Standard Time (CST, UTC+8); times in other zones are converted.
//
// # Calendar data
//
// data/<year>.json holds the holiday arrangement of one year as published
// by the State Council General Office (国务院办公厅关于某年部分节假日安排的
// 通知), with the notice in "source":
//
//	{
//	  "year": 2026,
//	  "source": "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
//	  "holidays": [{"date": "2026-01-01", "name": "元旦"}, ...],
//	  "makeup_workdays": [{"date": "2026-01-04", "name": "元旦调休上班"}, ...]
//	}
//
// "holidays" lists every rest day of the arrangement (放假日), weekends
// included; "makeup_workdays" lists the weekend days that are working days
// (调休上班日). A day is a working day if it is a make-up working day, or a
// Monday to Friday that is not a holiday. The data is checked when loaded:
// every date lies in its year, no date is listed twice or as both kinds, and
// make-up working days fall on a Saturday or Sunday.
//
// The embedded years are 2020 (with the Spring Festival extended to 2 February
// by 国办发明电〔2020〕1号, which also cancelled the make-up working day of
// Saturday 1 February), 2021 and 2026. A year without data falls back to the
// plain week — Monday to Friday working, Saturday and Sunday rest — which is
// wrong around its holidays; Calendar.HasYear tells whether a year has data.
// To add a year, add data/<year>.json when the State Council publishes the
// notice (usually in November or December of the year before) and run the
// tests.
//
// # Working hours
//
// Working hours are the same on every working day, make-up days included.
// The default is 08:30–12:00 and 14:00–17:30, 7 hours a day; configure
// others with ParseHours("08:00-12:00,14:30-18:00") and Calendar.WithHours.
// Periods are half-open: 08:30 is working time, 12:00 is not.
//
// # Limits and units
//
// A Limit is a whole number and a unit, written "2h", "8wh", "1wd":
//
//   - h, ClockHours (自然小时): clock time; the calendar is ignored.
//     2h from Saturday 23:00 ends Sunday 01:00.
//   - wh, WorkingHours (工作小时): only working hours of working days
//     count. 4wh from Monday 11:00 ends Monday 17:00 (1 h before lunch, 3 h
//     after); 4wh from Friday 17:00 ends Monday 12:00.
//   - wd, WorkingDays (工作日): the deadline is the close (17:30) of the n-th
//     working day. The start day counts as the first if it is a working day
//     and the start is at or before its opening (08:30); otherwise counting
//     begins with the next working day. 1wd from Friday 15:00 ends Monday
//     17:30; 1wd from Monday 08:00 ends Monday 17:30; 1wd from Wednesday
//     2026-09-30 16:00 ends Thursday 2026-10-08 17:30 (1–7 October are the
//     National Day holiday); 1wd from Friday 2026-02-13 16:00 ends Saturday
//     2026-02-14 17:30, a make-up working day; 1wd from Thursday 2020-01-23
//     ends Monday 2020-02-03 17:30 (the extended Spring Festival).
//
// Calendar.Deadline gives the expiry; Calendar.WarnAt(start, l, 0.8) the
// instant at which 80 % of the limit is used, measured in the limit's own
// terms (clock time for h, working time for wh and wd: 1wd from Friday 15:00
// is 9.5 working hours, so 80 % is reached Monday 15:36);
// Calendar.Elapsed(start, now, l) the fraction used at now — 1 at the
// deadline, ≥ 1 means overdue.
//
// # Policy
//
// A Policy maps (kind, urgency, step) to a Limit. DefaultPolicy holds the
// SPEC §5 defaults — code appeal: sign 2h, reply 24h; complaint and
// suggestion: sign 1wd, reply 5wd (urgent: 4wh, 2wd); consultation: reply 1wd
// (sign 4wh; urgent 2wh, 4wh); callback 1wd after the reply for all — and
// ParsePolicy overrides any of them from JSON:
//
//	{"COMPLAINT": {"URGENT": {"SIGN": "2wh", "REPLY": "1wd"}}}
//
// Typical use:
//
//	cal, err := workcal.Load()
//	...
//	l, err := policy.Limit(workcal.Complaint, workcal.Normal, workcal.Reply)
//	due := cal.Deadline(dispatchedAt, l)
//	warn := cal.WarnAt(dispatchedAt, l, 0.8)
//	overdue := cal.Elapsed(dispatchedAt, now, l) >= 1
package workcal
