// Command benchtable reads the output of `go test -bench` on standard input
// and prints the one table of `make bench` (docs/performance.md): per
// benchmark, the rate, p50/p99 where measured, the baseline measured in the
// same run and the ratio. Lines that are not benchmark results are passed to
// standard error, so the progress of a run stays visible.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var cpuSuffix = regexp.MustCompile(`-\d+$`)

type row struct {
	name    string
	metrics map[string]float64
	order   []string
}

func main() {
	var rows []row
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(os.Stderr, line)
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		r := row{name: cpuSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), ""), metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			r.metrics[f[i+1]] = v
			r.order = append(r.order, f[i+1])
		}
		rows = append(rows, r)
	}
	fmt.Println("| scenario | rate | p50 / p99 ms | baseline (same run) | ratio |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range rows {
		if _, ok := r.metrics["unavailable"]; ok {
			fmt.Printf("| %s | unavailable (see the log) | | | |\n", r.name)
			continue
		}
		rate, base := "", ""
		for _, u := range r.order {
			if u == "ns/op" || strings.HasPrefix(u, "x_") || strings.HasSuffix(u, "_ms") {
				continue
			}
			if strings.HasPrefix(u, "baseline_") || strings.HasPrefix(u, "copy_") || u == "ms_raw" {
				if base == "" {
					base = fmt.Sprintf("%s %s", num(r.metrics[u]), strings.TrimPrefix(u, "baseline_"))
				}
			} else if rate == "" && strings.Contains(u, "/s") {
				rate = fmt.Sprintf("%s %s", num(r.metrics[u]), u)
			}
		}
		if rate == "" { // a duration per call: the first ms_ or s_ metric
			for _, u := range r.order {
				if rate == "" && (strings.HasPrefix(u, "ms_") || strings.HasPrefix(u, "s_")) {
					rate = fmt.Sprintf("%s %s", num(r.metrics[u]), u)
				}
			}
		}
		if rate == "" {
			for _, u := range r.order {
				if u == "ns/op" && len(r.order) == 1 {
					rate = fmt.Sprintf("%s ns/op", num(r.metrics[u]))
				}
			}
		}
		lat := ""
		if p50, ok := r.metrics["p50_ms"]; ok {
			lat = fmt.Sprintf("%s / %s", num(p50), num(r.metrics["p99_ms"]))
		}
		ratio := ""
		for _, u := range r.order {
			if strings.HasPrefix(u, "x_") {
				ratio += fmt.Sprintf("%s %s ", num(r.metrics[u]), u)
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.name, rate, lat, base, strings.TrimSpace(ratio))
	}
}

// num formats a figure with three significant digits, thousands separated.
func num(v float64) string {
	switch {
	case v >= 1000:
		s := strconv.FormatFloat(v, 'f', 0, 64)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
