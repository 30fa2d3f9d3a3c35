package web

import (
	"mime"
	"net/http"
)

// RequestHeader marks a request sent on purpose by a program (curl, a script, an operator's
// tool): browsers send it cross-origin only after a CORS preflight, which creditwatch never
// grants.
const RequestHeader = "X-Creditwatch-Request"

// RequireNonSimple guards a state-changing endpoint against cross-site requests. A page on
// any site can make a visitor's browser send a "simple" request (a form or text/plain POST)
// without asking; it may not add a custom header or a JSON content type. So the request
// must carry X-Creditwatch-Request or Content-Type: application/json, or it is refused.
func RequireNonSimple(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(RequestHeader) != "" || isJSON(r.Header.Get("Content-Type")) {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, "Forbidden: a request that changes state must carry the header "+RequestHeader+
			": 1 or Content-Type: application/json (protection against cross-site requests)", http.StatusForbidden)
	})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
