// Command bench measures the chatbot SDK against the floor (plain net/http
// and encoding/json, hand-written) and against the Go SDKs a user would
// otherwise pick, on loopback fake servers in the same process, and prints
// one markdown table: scenario, contender, figure, ratio to the floor.
//
//	cd bench && go run .          # the full run, about two minutes
//	cd bench && go run . -quick   # a smoke run of a few seconds
//
// Progress goes to stderr and the table to stdout. The same scenarios back
// the Go benchmarks of this package (go test -bench . -benchmem), for
// benchstat comparisons across commits.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"testing"
	"time"
)

// scenarios returns every scenario, in the order.
func scenarios() []scenario {
	s := []scenario{chatScenario(), sseScenario(), resilienceScenario(), layersScenario(), textScenario()}
	s = append(s, latencyScenarios()...)
	s = append(s, memoryScenarios()...)
	s = append(s, concurrencyScenario())
	s = append(s, openStreamsScenarios()...)
	s = append(s, h2Scenario())
	return append(s, relayScenarios()...)
}

func main() {
	serveIfChild()
	testing.Init()
	quick := flag.Bool("quick", false, "a short smoke run of a few seconds")
	only := flag.String("only", "", "run only the scenarios whose name matches this regular expression")
	flag.StringVar(&heapProfilePrefix, "heapprofile", "", "write a heap profile of each open-streams operation, while its streams are held open, to files with this prefix")
	flag.Parse()
	if heapProfilePrefix != "" {
		runtime.MemProfileRate = 1 // every allocation, so that small per-stream costs show
	}
	if err := run(*quick, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(quick bool, only string) error {
	cfg := fullConfig
	if quick {
		cfg = quickConfig
	}
	if err := flag.Set("test.benchtime", cfg.benchtime.String()); err != nil {
		return err
	}
	re, err := regexp.Compile(only)
	if err != nil {
		return err
	}
	var (
		ran     []scenario
		results [][]result
		failed  bool
	)
	start := time.Now()
	for _, s := range scenarios() {
		if !re.MatchString(s.name) {
			continue
		}
		rs := runScenario(cfg, s, os.Stderr)
		for _, r := range rs {
			failed = failed || r.failed
		}
		ran = append(ran, s)
		results = append(results, rs)
	}
	fmt.Printf("%s, GOMAXPROCS %d, %d rounds of %s per contender (median shown, ± half the spread), %s in all\n\n",
		runtime.Version(), runtime.GOMAXPROCS(0), cfg.rounds, cfg.benchtime, time.Since(start).Round(time.Second))
	fmt.Print(table(ran, results))
	if failed {
		return fmt.Errorf("a contender failed")
	}
	return nil
}
