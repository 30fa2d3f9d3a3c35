// Package deface looks for signs of defacement and intrusion on a portal page, as an
// assessor would: injected gambling, adult and scam keywords (a shipped list plus each
// target's must_not_contain), scripts, frames, resources and links from origins not on the
// target's allow-list, hidden links to other origins, a changed <title>, and a change of
// the page's structure against its accepted baseline beyond a threshold. It also finds the
// newest item date of a list page, for content freshness.
//
// Everything here is pure: the caller fetches the page, parses it once with Parse, and
// passes the accepted Baseline (stored as JSON in the ledger) and the target's Policy. A
// sign is not yet an incident: Confirmation.Observe confirms a rule only when its sign is
// seen on confirm_after consecutive probes (default 2), so one flaky fetch never confirms.
//
// Structure is compared by a tag-path profile, not bytes: the multiset of root-to-element
// paths (tag names and class names with digits removed), compared by a weighted Jaccard
// distance with dampened counts. A news list whose items change every day keeps its
// paths; a redesign or a replaced page does not.
package deface
