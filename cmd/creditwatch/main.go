// Command creditwatch watches a city's social-credit platform the way the national
// assessors do and exports what every fault will cost. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/creditwatch/creditwatch/internal/app"
	"github.com/creditwatch/creditwatch/internal/logging"
	"github.com/creditwatch/creditwatch/internal/service"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	a := kingpin.New("creditwatch", "Watches a social-credit platform the way the national assessors do.")
	a.Version(version.Print("creditwatch"))
	a.HelpFlag.Short('h')
	logLevel := a.Flag("log.level", "Log level: debug, info, warn, error.").Default("info").String()
	logFormat := a.Flag("log.format", "Log format: console or json.").Default("console").String()

	serve := a.Command("serve", "Run the service.")
	serveCfg := configFlag(serve)
	serveStore := storageFlag(serve)
	serveVantage := serve.Flag("vantage", "Name of this vantage point, recorded with every probe.").Default("local").String()
	serveWeb := kingpinflag.AddFlags(serve, ":9797")
	serveExternal := serve.Flag("web.external-url", "URL under which the status page is reached, for the alerts' links (e.g. https://creditwatch.example.gov.cn/); default http://HOST:PORT/ of the first listen address.").String()
	serveRunbooks := serve.Flag("web.runbook-url", "URL of the runbooks, for the alerts' links; default the runbooks creditwatch serves, <web.external-url>/runbooks/.").String()

	demo := a.Command("demo", "Run the simulated platform and the service watching it, on loopback.")
	demoStore := demo.Flag("storage.path", "Ledger file.").Default("data/creditwatch-demo.db").String()
	demoSim := demo.Flag("sim.listen-address", "Address of the simulated portal.").Default("127.0.0.1:18080").String()
	demoWeb := kingpinflag.AddFlags(demo, "127.0.0.1:9797")

	simCmd := a.Command("sim", "Run the simulated platform alone.")
	simListen := simCmd.Flag("listen", "Address to listen on.").Default("127.0.0.1:18080").String()
	simScenario := simCmd.Flag("scenario", "Scenario file of timed or per-request faults.").String()
	simTLS := simCmd.Flag("tls", "Serve HTTPS with a fresh self-signed certificate.").Bool()

	checkConfig := a.Command("check-config", "Validate a configuration file, listing every problem.")
	checkCfg := configFlag(checkConfig)

	probe := a.Command("probe", "Probe the portal targets once and print what each answered; records nothing.")
	probeCfg := configFlag(probe)
	probeTargets := probe.Flag("target", "Target to probe (repeatable); default all.").Strings()

	score := a.Command("score", "Print the score card of the assessment period from the ledger.")
	scoreCfg := configFlag(score)
	scoreStore := storageFlag(score)
	scoreFormat := score.Flag("format", "Output format: text or json.").Default("text").Enum("text", "json")
	scoreAsOf := score.Flag("as-of", "Print the card as it stood at the end of this day, YYYY-MM-DD (Asia/Shanghai); default now.").String()

	audit := a.Command("audit", "Audit a licence or penalty export (CSV or XLSX) before it is submitted.")
	auditKind := audit.Flag("kind", "Record kind: penalty, licence, objection or repair.").Required().String()
	auditAsOf := audit.Flag("as-of", "Audit date, YYYY-MM-DD; default today in Asia/Shanghai. Reports dated later have not happened yet.").String()
	auditFormat := audit.Flag("format", "Output format: text or json.").Default("text").Enum("text", "json")
	auditAllow := audit.Flag("allow-codes", "File of known codes that fail the checksum but are accepted, one per line.").String()
	auditHolidays := audit.Flag("holidays", "Holiday override file for years the built-in calendar lacks.").String()
	auditFile := audit.Arg("file", "CSV or XLSX file.").Required().String()
	auditFrom := audit.Flag("from", "Assessment period start, YYYY-MM-DD; default 1 January of the audit year. Records decided earlier are checked but not counted.").String()
	auditPublished := audit.Flag("publicity-records", "Objections: publicity records published in the period, for the objection share.").Default("-1").Int()
	auditRepairRule := audit.Flag("repair-rule", "Repairs: minimum publication period rule, 2019 or 2023.").Default("2019").String()

	check := a.Command("check", "Check codes and working days.")
	checkUSCC := check.Command("uscc", "Check unified social credit codes (GB 32100).")
	checkUSCCCodes := checkUSCC.Arg("code", "Codes to check.").Required().Strings()
	checkWD := check.Command("workdays", "Count working days d with FROM < d ≤ TO (official calendar).")
	checkWDFrom := checkWD.Arg("from", "YYYY-MM-DD").Required().String()
	checkWDTo := checkWD.Arg("to", "YYYY-MM-DD").Required().String()
	checkWDHolidays := checkWD.Flag("holidays", "Holiday override file.").String()

	reportCmd := a.Command("report", "Write a monthly uptime and score report; verify a saved one.")
	reportGen := reportCmd.Command("generate", "Write the report of a month (the default).").Default()
	reportMonth := reportGen.Flag("month", "Month, YYYY-MM.").Required().String()
	reportFormat := reportGen.Flag("format", "html, print (PDF-ready HTML), csv or json.").Default("html").String()
	reportOut := reportGen.Flag("out", "Output file; standard output when empty.").String()
	reportRecompute := reportGen.Flag("recompute", "Recompute a finished (frozen) month from the ledger.").Bool()
	reportCfg := configFlag(reportGen)
	reportStore := storageFlag(reportGen)
	reportVerify := reportCmd.Command("verify", "Check a saved report: digest, every byte against its own data, signature, ledger.")
	reportVerifyFile := reportVerify.Arg("file", "Report file (HTML, PDF-ready HTML, JSON, or CSV with --ledger).").Required().String()
	reportVerifyKey := reportVerify.Flag("pubkey", "Trusted public key file of the office (PEM, or the base64 key of a report's footer).").String()
	reportVerifyLedger := reportVerify.Flag("ledger", "Also check that the ledger holds this version with this digest.").Bool()
	reportVerifyCfg := reportVerify.Flag("config.file", "Configuration file (with --ledger).").Default("creditwatch.yml").String()
	reportVerifyStore := reportVerify.Flag("storage.path", "Ledger file (with --ledger); overrides storage.path.").String()

	keysCmd := a.Command("keys", "Manage the report signing key.")
	keysGen := keysCmd.Command("generate", "Write a new Ed25519 signing key and its public key (FILE.pub).")
	keysOut := keysGen.Flag("out", "Key file to write; never overwritten.").Required().String()

	ledgerCmd := a.Command("ledger", "Back up, check, restore, verify and migrate the ledger.")
	ledgerBackup := ledgerCmd.Command("backup", "Write a consistent copy of the ledger, while creditwatch runs.")
	ledgerBackupTo := ledgerBackup.Arg("file", "Backup file to write; must not exist.").Required().String()
	ledgerBackupCfg := configFlag(ledgerBackup)
	ledgerBackupStore := storageFlag(ledgerBackup)
	ledgerCheck := ledgerCmd.Command("check", "Run SQLite's integrity check (PostgreSQL's checks for storage.url) and walk the hash chain.")
	ledgerCheckCfg := configFlag(ledgerCheck)
	ledgerCheckStore := storageFlag(ledgerCheck)
	ledgerRestore := ledgerCmd.Command("restore", "Put a checked backup in place of the ledger (creditwatch must be stopped).")
	ledgerRestoreFrom := ledgerRestore.Flag("from", "Backup file, made by ledger backup.").Required().String()
	ledgerRestoreCfg := configFlag(ledgerRestore)
	ledgerRestoreStore := storageFlag(ledgerRestore)
	ledgerMigrate := ledgerCmd.Command("migrate", "Copy a SQLite ledger into PostgreSQL (creditwatch stopped); a rerun continues a copy that stopped. Verified by row counts and the hash chain.")
	ledgerMigrateFrom := ledgerMigrate.Flag("from", "The SQLite ledger: sqlite:PATH.").Required().String()
	ledgerMigrateTo := ledgerMigrate.Flag("to", "The PostgreSQL database: postgres://user@host:port/database (it must exist).").Required().String()
	ledgerMigratePassword := ledgerMigrate.Flag("password-file", "File holding the PostgreSQL password; else PGPASSWORD or ~/.pgpass.").String()
	ledgerMigrateBatch := ledgerMigrate.Flag("batch", "Rows per transaction.").Default("2000").Int()
	ledgerVerify := ledgerCmd.Command("verify", "Walk the hash chain and check incidents, risk events, reports, annotations, security incidents, baselines and non-conforming report checks against it.")
	ledgerVerifyCfg := configFlag(ledgerVerify)
	ledgerVerifyStore := storageFlag(ledgerVerify)

	incidentCmd := a.Command("incident", "Work with incidents.")
	annotate := incidentCmd.Command("annotate", "Record a person's word on an incident (a new chained row, never an edit).")
	annotateID := annotate.Arg("id", "Incident number (as in the report and on the status page).").Required().Int64()
	annotateCause := annotate.Flag("cause", "maintenance (still counts), monitor_error (creditwatch's own mistake: void), confirmed or other.").Required().Enum("maintenance", "monitor_error", "confirmed", "other")
	annotateNote := annotate.Flag("note", "What happened.").Required().String()
	annotateBy := annotate.Flag("by", "Who says so.").Required().String()
	annotateCfg := configFlag(annotate)
	annotateStore := storageFlag(annotate)

	baselineCmd := a.Command("baseline", "Work with the pages' accepted baselines.")
	baselineAccept := baselineCmd.Command("accept", "Accept the latest page the probe saw of a target as its new baseline, after a legitimate redesign.")
	baselineTarget := baselineAccept.Arg("target", "Target name, as in the config.").Required().String()
	baselineBy := baselineAccept.Flag("by", "Who accepts the page.").Required().String()
	baselineCfg := configFlag(baselineAccept)
	baselineStore := storageFlag(baselineAccept)

	securityCmd := a.Command("security", "Work with security incidents.")
	securityRecord := securityCmd.Command("record", "Record an intrusion found otherwise, or a security incident the authorities notified; it counts like a detected one.")
	securityDate := securityRecord.Flag("date", "Day it occurred or was notified, YYYY-MM-DD (Asia/Shanghai).").Required().String()
	securityRef := securityRecord.Flag("ref", "Its reference, such as the notice's number.").Required().String()
	securityKind := securityRecord.Flag("kind", "intrusion (found otherwise, on the sharing platform too) or notified (by the authorities).").Required().Enum("intrusion", "notified")
	securityNote := securityRecord.Flag("note", "What happened.").Required().String()
	securityBy := securityRecord.Flag("by", "Who records it.").Required().String()
	securityCfg := configFlag(securityRecord)
	securityStore := storageFlag(securityRecord)

	calCmd := a.Command("calendar", "Export the official working calendar.")
	calAM := calCmd.Command("alertmanager", "Print Alertmanager time intervals of working days and holidays.")
	calYears := calAM.Flag("year", "Year to include (repeatable).").Required().Strings()
	calHolidays := calAM.Flag("holidays", "Holiday override file.").String()

	notifyCmd := a.Command("notify", "Check the alerting path.")
	notifyTest := notifyCmd.Command("test", "Send a test alert through Alertmanager (API v2), routed like a real alert, and say whether it was accepted and by which receivers; exit 3 if not.")
	notifyURLs := notifyTest.Flag("alertmanager.url", "Alertmanager base URL, as in Prometheus's alerting section (repeatable: every member of a cluster).").Default("http://127.0.0.1:9093").Strings()
	notifySeverity := notifyTest.Flag("severity", "Route the test like an alert of this severity: critical pages on-call, warning goes to the team channel.").Default("critical").Enum("critical", "warning")
	notifyLabels := notifyTest.Flag("label", "Extra label NAME=VALUE of the test alert (repeatable), e.g. audience=office to try the office's route.").StringMap()
	notifyResolve := notifyTest.Flag("resolve-after", "How long the test alert lasts before it resolves by itself.").Default("5m").Duration()
	notifyTimeout := notifyTest.Flag("timeout", "Timeout of each request to Alertmanager.").Default("10s").Duration()

	cmd, err := a.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditwatch: %v (try --help)\n", err)
		return 2
	}
	log, err := logging.New(*logLevel, *logFormat)
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditwatch: %v\n", err)
		return 2
	}
	defer log.Sync()
	ctx := context.Background()
	svcOpts := service.Options{Logger: log, Version: version.Version}

	switch cmd {
	case serve.FullCommand():
		svcOpts.ConfigFile, svcOpts.StoragePath, svcOpts.Vantage = *serveCfg, *serveStore, *serveVantage
		err = app.Serve(ctx, app.ServeOptions{Service: svcOpts, Web: serveWeb, ExternalURL: *serveExternal, RunbookURL: *serveRunbooks})
	case demo.FullCommand():
		svcOpts.StoragePath, svcOpts.Vantage = *demoStore, "local"
		err = app.Demo(ctx, app.DemoOptions{Serve: app.ServeOptions{Service: svcOpts, Web: demoWeb},
			SimListen: *demoSim, Out: os.Stdout, StoragePath: *demoStore})
	case simCmd.FullCommand():
		err = app.RunSim(ctx, *simListen, *simScenario, *simTLS, log)
	case checkConfig.FullCommand():
		err = app.CheckConfig(*checkCfg, os.Stdout)
	case audit.FullCommand():
		err = app.Audit(ctx, app.AuditOptions{Kind: *auditKind, AsOf: *auditAsOf, Format: *auditFormat,
			AllowCodes: *auditAllow, Holidays: *auditHolidays, File: *auditFile, Out: os.Stdout, Err: os.Stderr,
			From: *auditFrom, PublicityRecords: *auditPublished, RepairRule: *auditRepairRule})
	case checkUSCC.FullCommand():
		err = app.CheckUSCC(os.Stdout, *checkUSCCCodes)
	case reportGen.FullCommand():
		err = app.Report(ctx, app.ReportOptions{ConfigFile: *reportCfg, StoragePath: *reportStore, Month: *reportMonth,
			Format: *reportFormat, Out: *reportOut, Recompute: *reportRecompute, Version: version.Version, Stdout: os.Stdout, Stderr: os.Stderr})
	case reportVerify.FullCommand():
		err = app.VerifyReport(ctx, os.Stdout, app.VerifyOptions{File: *reportVerifyFile, PublicKey: *reportVerifyKey,
			Ledger: *reportVerifyLedger, ConfigFile: *reportVerifyCfg, StoragePath: *reportVerifyStore})
	case keysGen.FullCommand():
		err = app.GenerateKey(os.Stdout, *keysOut)
	case ledgerBackup.FullCommand():
		err = app.BackupLedger(ctx, os.Stdout, *ledgerBackupCfg, *ledgerBackupStore, *ledgerBackupTo)
	case ledgerCheck.FullCommand():
		err = app.CheckLedger(ctx, os.Stdout, *ledgerCheckCfg, *ledgerCheckStore)
	case ledgerRestore.FullCommand():
		err = app.RestoreLedger(ctx, os.Stdout, *ledgerRestoreCfg, *ledgerRestoreStore, *ledgerRestoreFrom)
	case ledgerMigrate.FullCommand():
		err = app.MigrateLedger(ctx, os.Stdout, app.MigrateOptions{From: *ledgerMigrateFrom, To: *ledgerMigrateTo,
			PasswordFile: *ledgerMigratePassword, Batch: *ledgerMigrateBatch})
	case ledgerVerify.FullCommand():
		err = app.VerifyLedger(ctx, os.Stdout, *ledgerVerifyCfg, *ledgerVerifyStore)
	case annotate.FullCommand():
		err = app.Annotate(ctx, os.Stdout, app.AnnotateOptions{ConfigFile: *annotateCfg, StoragePath: *annotateStore,
			Incident: *annotateID, Cause: *annotateCause, Note: *annotateNote, By: *annotateBy})
	case baselineAccept.FullCommand():
		err = app.AcceptBaseline(ctx, os.Stdout, app.BaselineOptions{ConfigFile: *baselineCfg, StoragePath: *baselineStore,
			Target: *baselineTarget, By: *baselineBy})
	case securityRecord.FullCommand():
		err = app.RecordSecurity(ctx, os.Stdout, app.SecurityOptions{ConfigFile: *securityCfg, StoragePath: *securityStore,
			Date: *securityDate, Ref: *securityRef, Kind: *securityKind, Note: *securityNote, By: *securityBy})
	case calAM.FullCommand():
		err = app.CalendarAlertmanager(os.Stdout, *calYears, *calHolidays)
	case checkWD.FullCommand():
		err = app.CheckWorkdays(os.Stdout, *checkWDFrom, *checkWDTo, *checkWDHolidays)
	case probe.FullCommand():
		err = app.Probe(ctx, *probeCfg, *probeTargets, os.Stdout, log)
	case notifyTest.FullCommand():
		err = app.NotifyTest(ctx, app.NotifyOptions{URLs: *notifyURLs, Severity: *notifySeverity, Labels: *notifyLabels,
			ResolveAfter: *notifyResolve, Timeout: *notifyTimeout, Out: os.Stdout})
	case score.FullCommand():
		err = app.Score(ctx, app.ScoreOptions{ConfigFile: *scoreCfg, StoragePath: *scoreStore, Format: *scoreFormat,
			AsOf: *scoreAsOf, Out: os.Stdout})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "creditwatch %s: %v\n", cmd, err)
		var ee *app.ExitError
		if errors.As(err, &ee) {
			return ee.Code
		}
		return 1
	}
	return 0
}

// configFlag adds --config.file to a command.
func configFlag(cmd *kingpin.CmdClause) *string {
	return cmd.Flag("config.file", "Configuration file.").Default("creditwatch.yml").String()
}

// storageFlag adds --storage.path to a command.
func storageFlag(cmd *kingpin.CmdClause) *string {
	return cmd.Flag("storage.path", "Ledger file; overrides storage.path of the config.").String()
}
