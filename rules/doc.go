// Package rules holds the colour rules of the Shaanxi health code as data and
// the evaluator that applies them (SPEC §3, Annex 1 of 陕肺炎办发〔2020〕103号).
//
// A RuleSet is a versioned, ordered list of declarative clauses; Default()
// reproduces Annex 1. Evaluate(facts, ruleSet, now) is a pure function: no
// I/O, no clock, no randomness. It returns the colour, the clauses that hold
// (each with a Chinese reason citing the facts and the Annex clause), and
// reevaluateAt, the earliest instant at which the result can change without a
// new fact. Storage gathers the Facts, calls Evaluate, stores the result with
// the rule-set version, and schedules the next evaluation at reevaluateAt.
//
// The package depends only on the standard library and the root package (for
// error codes). docs/rules.md describes the fact model, the rule language,
// the semantics and the golden vectors in testdata/.
package rules
