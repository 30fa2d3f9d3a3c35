// Command gen writes creditwatch's Grafana dashboards to grafana/dashboards/.
//
//	go run ./grafana/gen
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditwatch/creditwatch/grafana"
)

func main() {
	dir := "grafana/dashboards"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for name, b := range grafana.All() {
		out, err := grafana.Render(b)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), out, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
}
