package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/service"
)

// content takes, from authenticated users, the office's word on what the portal shows: a
// page accepted as a target's new baseline, and security incidents found otherwise or
// notified by the authorities. Both take JSON only, in the name of the authenticated user.
type content struct {
	svc *service.Service
	log *zap.Logger
}

// user returns the authenticated user of a JSON request, or answers the request itself.
func (h *content) user(w http.ResponseWriter, r *http.Request) (string, bool) {
	user, _, ok := r.BasicAuth()
	if !authEnforced(r) || !ok || user == "" {
		http.Error(w, "此操作需要登录：请在 --web.config.file 中配置 basic_auth_users", http.StatusForbidden)
		return "", false
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "请求须为 JSON（Content-Type: application/json）", http.StatusUnsupportedMediaType)
		return "", false
	}
	return user, true
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// acceptBaseline makes the latest page the probe saw of a target its new baseline.
func (h *content) acceptBaseline(w http.ResponseWriter, r *http.Request) {
	user, ok := h.user(w, r)
	if !ok {
		return
	}
	target := r.PathValue("target")
	if !slices.ContainsFunc(h.svc.Config().Portal.Targets, func(t config.Target) bool { return t.Name == target }) {
		http.Error(w, "配置中没有该监测目标", http.StatusNotFound)
		return
	}
	var req struct{}
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "请求应为 JSON 对象 {}", http.StatusBadRequest)
		return
	}
	b, err := h.svc.Ledger().AcceptLatestPage(r.Context(), target, user, h.svc.Clock().Now())
	if errors.Is(err, ledger.ErrNoPageSeen) {
		http.Error(w, "尚未探测到该目标的页面，无法确认基线", http.StatusConflict)
		return
	}
	if err != nil {
		h.log.Error("accepting a baseline failed", zap.String("target", target), zap.Error(err))
		http.Error(w, "写入台账失败", http.StatusInternalServerError)
		return
	}
	h.log.Info("baseline accepted", zap.String("target", target), zap.Int64("baseline", b.ID), zap.String("by", user))
	if err := h.svc.Rescore(r.Context()); err != nil {
		h.log.Error("scoring after a baseline acceptance failed", zap.Error(err))
	}
	writeJSON(w, map[string]any{"baseline": b.ID, "target": target, "by": user, "at": b.AcceptedAt.UTC(),
		"page_sha256": b.PageSHA256, "title": b.Title, "message": "已确认为新的页面基线：页面标题与结构的变化自此不再计为入侵"})
}

type securityRequest struct {
	Date string `json:"date"`
	Ref  string `json:"ref"`
	Kind string `json:"kind"`
	Note string `json:"note"`
}

var securityKindNames = map[string]string{ledger.SecurityIntrusion: "被成功入侵", ledger.SecurityNotified: "受到主管部门安全事件通报",
	ledger.SecurityDefacement: "网页被篡改"}

// recordSecurity records a security incident the office learned of otherwise.
func (h *content) recordSecurity(w http.ResponseWriter, r *http.Request) {
	user, ok := h.user(w, r)
	if !ok {
		return
	}
	var req securityRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil ||
		strings.TrimSpace(req.Ref) == "" || strings.TrimSpace(req.Note) == "" {
		http.Error(w, `请求应为 {"date": "YYYY-MM-DD", "ref": …, "kind": "intrusion"|"notified", "note": …}，编号和说明不能为空`, http.StatusBadRequest)
		return
	}
	day, err := clock.ParseDate(req.Date)
	if err != nil {
		http.Error(w, "日期应为 YYYY-MM-DD", http.StatusBadRequest)
		return
	}
	now := h.svc.Clock().Now()
	id, err := h.svc.Ledger().RecordSecurityIncident(r.Context(), ledger.SecurityRecord{Date: day, Kind: req.Kind, Ref: req.Ref,
		Note: req.Note, By: user, At: now})
	if err != nil {
		http.Error(w, "记录失败："+err.Error(), http.StatusBadRequest)
		return
	}
	h.log.Warn("security incident recorded", zap.Int64("security_incident", id), zap.String("kind", req.Kind), zap.String("by", user))
	if err := h.svc.Rescore(r.Context()); err != nil {
		h.log.Error("scoring after a security incident failed", zap.Error(err))
	}
	writeJSON(w, map[string]any{"security_incident": id, "kind": req.Kind, "date": clock.Date(day), "by": user, "at": now.UTC(),
		"message": "已记录：" + securityKindNames[req.Kind] + "，本考核周期“信息安全事件”指标不得分"})
}
