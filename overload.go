package healthcode

// WorkClass is the admission class of a request: how much the platform owes
// it when it has more work than it can do. Under overload the API server
// (package server, admission control) refuses non-essential work first,
// then normal work, and keeps essential work (the code page, scans, check-ins)
// answering; logins are essential but bounded on their own, since one
// password hash costs tens of MiB. The GraphQL operation → class table is
// graph.OperationClasses; docs/operations.md ("Overload") explains the limits.
type WorkClass string

// The admission classes, from the most to the least important.
const (
	// ClassEssential is what a resident or a checkpoint needs at once: the
	// code page (myCode, myCredential), verifying and recording scans,
	// check-ins.
	ClassEssential WorkClass = "essential"
	// ClassLogin is logging in (password or SMS): essential, but with a
	// concurrency limit of its own that bounds the memory of password hashes.
	ClassLogin WorkClass = "login"
	// ClassNormal is console work (tickets, persons, designations) and any
	// operation the table does not name.
	ClassNormal WorkClass = "normal"
	// ClassNonEssential is work that can wait for a quieter minute:
	// rankings, histories, exports, reports, aggregates.
	ClassNonEssential WorkClass = "non-essential"
)

// WorkClasses lists the classes, from the most to the least important.
var WorkClasses = []WorkClass{ClassEssential, ClassLogin, ClassNormal, ClassNonEssential}

// ErrOverloaded is the error of a request refused by admission control: the
// replica has more work than it can do in time, and retrying after
// Retry-After (or on another replica) may succeed. The server answers it with
// HTTP 503 and Retry-After.
var ErrOverloaded = &Error{Code: EOVERLOADED, Message: "当前访问人数过多，请稍后重试"}
