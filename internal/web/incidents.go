package web

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/service"
)

// incidents serves an incident's page (its evidence and annotations) and takes
// annotations from authenticated users.
type incidents struct {
	svc *service.Service
	log *zap.Logger
}

var incidentPage = template.Must(template.New("incident.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/incident.html.tmpl"))

var causeNames = map[string]string{
	ledger.CauseMaintenance: "计划维护（仍计入）", ledger.CauseMonitorError: "监测程序自身错误（不计分）",
	ledger.CauseConfirmed: "确认的不可访问", ledger.CauseOther: "其他",
}

type incidentView struct {
	*ledger.Incident
	Opened, Closed *ledger.Evidence
	Causes         map[string]string
	CanAnnotate    bool
}

func (h *incidents) page(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "事件编号应为数字", http.StatusNotFound)
		return
	}
	inc, err := h.svc.Ledger().Incident(r.Context(), id)
	if err != nil {
		h.log.Error("incident page: reading the ledger failed", zap.Int64("incident", id), zap.Error(err))
		http.Error(w, "读取台账失败", http.StatusInternalServerError)
		return
	}
	if inc == nil {
		http.Error(w, "台账中没有该事件", http.StatusNotFound)
		return
	}
	ev, err := h.svc.Ledger().IncidentEvidence(r.Context(), id)
	if err != nil {
		h.log.Error("incident page: reading the evidence failed", zap.Int64("incident", id), zap.Error(err))
	}
	v := incidentView{Incident: inc, Opened: ev[ledger.EvidenceOpened], Closed: ev[ledger.EvidenceClosed], Causes: causeNames,
		CanAnnotate: authEnforced(r)}
	renderHTML(w, incidentPage, v, h.log.With(zap.String("page", "incident"), zap.Int64("incident", id)))
}

type annotationRequest struct {
	Cause string `json:"cause"`
	Note  string `json:"note"`
}

// annotate records an annotation in the name of the authenticated user. It takes JSON only:
// a browser cannot send that across sites without asking first.
func (h *incidents) annotate(w http.ResponseWriter, r *http.Request) {
	// Only a user the web config's basic auth let through speaks here, under their own name.
	user, _, ok := r.BasicAuth()
	if !authEnforced(r) || !ok || user == "" {
		http.Error(w, "标注需要登录：请在 --web.config.file 中配置 basic_auth_users", http.StatusForbidden)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "请求须为 JSON（Content-Type: application/json）", http.StatusUnsupportedMediaType)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "事件编号应为数字", http.StatusNotFound)
		return
	}
	var req annotationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil || strings.TrimSpace(req.Note) == "" {
		http.Error(w, "请求应为 {\"cause\": …, \"note\": …}，说明不能为空", http.StatusBadRequest)
		return
	}
	a := ledger.Annotation{IncidentID: id, Cause: req.Cause, Note: strings.TrimSpace(req.Note), By: user, At: h.svc.Clock().Now()}
	n, err := h.svc.Ledger().Annotate(r.Context(), a)
	if err != nil {
		http.Error(w, "标注失败："+err.Error(), http.StatusBadRequest)
		return
	}
	h.log.Info("incident annotated", zap.Int64("incident", id), zap.String("cause", a.Cause), zap.String("by", user))
	if err := h.svc.Rescore(r.Context()); err != nil {
		h.log.Error("scoring after an annotation failed", zap.Error(err))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"annotation": n, "incident": id, "cause": a.Cause, "by": user,
		"at": a.At.UTC(), "message": "已记录：" + causeNames[a.Cause]})
}
