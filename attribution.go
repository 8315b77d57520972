package healthcode

import "strings"

// Attribution says who entered a fact, took a step or produced a report, as
// a member of staff judging it needs to know: the kind of actor, the name,
// the role and where the person works. Records store the actor's subject
// (staff:12, resident:7, apikey:3, system); StaffService.Attributions turns
// subjects into attributions for objects the caller may already read.
type Attribution struct {
	// Subject is the stored subject, as the audit log names the actor.
	Subject string
	Kind    ActorKind
	// Name is a staff member's display name, a resident's masked phone, a
	// sub-system's API key name, or 系统.
	Name string
	// Roles are a staff member's roles (their grants and institution
	// membership) in StaffRoles order; RESIDENT or SUBSYSTEM otherwise.
	Roles []Role
	// RegionCode and RegionName are where the person works: a staff
	// member's home region, a sub-system's city. RegionName is the full name
	// below the province (西安市雁塔区), 陕西省 for the province itself.
	RegionCode string
	RegionName string
	// Unit is the handling unit (承办单位) of a handler's region; "" if none.
	Unit string
	// Institution is the institution of an inspector or an institution's
	// administrator, or of the venue of a scan; "" if none.
	Institution string
	// Venue is the venue (查验场所) where a scan was made; set by the
	// service that knows the scan, "" otherwise.
	Venue string
}

// Role is the Chinese label of the roles, joined with 、 (系统 for the
// system). Any caller; no error.
func (a *Attribution) Role() string {
	if a.Kind == ActorSystem {
		return "系统"
	}
	labels := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		labels[i] = r.Label()
	}
	return strings.Join(labels, "、")
}

// Text renders the attribution as one Chinese line for reports and lists:
// 李防疫（防疫员，大雁塔景区入口，大雁塔景区，西安市雁塔区）, 居民（138****1234）,
// 系统. Any caller; no error.
func (a *Attribution) Text() string {
	switch a.Kind {
	case ActorSystem:
		return "系统"
	case ActorResident:
		return "居民（" + a.Name + "）"
	}
	var parts []string
	for _, p := range []string{a.Role(), a.Unit, a.Venue, a.Institution, a.RegionName} {
		if p != "" && (len(parts) == 0 || parts[len(parts)-1] != p) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return a.Name
	}
	return a.Name + "（" + strings.Join(parts, "，") + "）"
}
