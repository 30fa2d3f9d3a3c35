// Command genrecords writes a large penalty or licence CSV export for benchmarks, with the
// simulator's realistic records (5% faulty, 3% late, 2% unreported).
//
//	go run ./bench/genrecords -kind penalty -n 1000000 -o /tmp/penalties.csv
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"os"

	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/sim"
)

func main() {
	kind := flag.String("kind", "penalty", "penalty or licence")
	n := flag.Int("n", 1000000, "number of records")
	out := flag.String("o", "records.csv", "output file")
	flag.Parse()
	if err := run(*kind, *n, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genrecords:", err)
		os.Exit(1)
	}
}

func run(kindName string, n int, out string) error {
	kind, err := publicity.ParseKind(kindName)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	cols := publicity.Schemas[kind].Columns()
	if err := w.Write(cols); err != nil {
		return err
	}
	row := make([]string, len(cols))
	sc := sim.PlatformScenario{FaultyRatio: 0.05, LateRatio: 0.03, UnreportedRatio: 0.02}
	err = sim.Generate(kind, n, sc, func(_ string, fields map[string]string, reported string) error {
		for i, c := range cols {
			row[i] = fields[c]
		}
		row[len(row)-1] = reported
		return w.Write(row)
	})
	if err != nil {
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
