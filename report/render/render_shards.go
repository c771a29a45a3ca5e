package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/stampede-load/stampede/report"
	"github.com/stampede-load/stampede/report/format"
)

// A merged run's shards: one row each (its records, its share of the plan
// and what it achieved, its p99, its clock skew), the largest skew, and
// why a shard is missing or failed. A run of one agent has no section.

func shardRow(s report.ShardSummary) []string {
	success, skew := "-", "-"
	if s.Records > 0 {
		success = format.Pct(s.SuccessRatio)
	}
	if !s.Missing() {
		skew = shardSkew(s.SkewMS)
	}
	return []string{fmt.Sprint(s.Index), s.Status, fmt.Sprint(s.Records), format.Num(format.Round(s.OfferedRPS, 1)),
		format.Num(format.Round(s.AchievedRPS, 1)), success, fmsShort(s.P99), skew}
}

func shardSkew(ms float64) string { return format.Num(format.Round(ms, 1)) + " ms" }

var shardHeader = []string{"shard", "status", "records", "offered/s", "achieved/s", "success", "p99", "skew"}

func writeShardsText(w io.Writer, r *report.Report) {
	s := r.Shards
	if s == nil {
		return
	}
	section(w, "Shards")
	t := newTable(w)
	head := make([]any, len(shardHeader))
	for i, h := range shardHeader {
		head[i] = h
	}
	t.Header(head...)
	for _, sh := range s.List {
		row := shardRow(sh)
		cells := make([]any, len(row))
		for i, c := range row {
			cells[i] = c
		}
		_ = t.Append(cells...)
	}
	_ = t.Render()
	fmt.Fprintf(w, "%s.\n", upperFirst(s.SkewLine()))
	if s.Partial {
		fmt.Fprintf(w, "Partial: %s.\n", s.PartialReason)
	}
	for _, sh := range s.List {
		if sh.Note != "" {
			fmt.Fprintln(w, shardNote(sh))
		}
	}
}

func writeShardsMD(w io.Writer, r *report.Report) {
	s := r.Shards
	if s == nil {
		return
	}
	fmt.Fprintf(w, "\n## Shards\n\n")
	fmt.Fprintf(w, "| %s |\n|", joinCells(shardHeader))
	for range shardHeader {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, sh := range s.List {
		fmt.Fprintf(w, "| %s |\n", joinCells(shardRow(sh)))
	}
	fmt.Fprintf(w, "\n%s.\n", upperFirst(s.SkewLine()))
	if s.Partial {
		fmt.Fprintf(w, "\n**Partial:** %s.\n", mdCell(s.PartialReason))
	}
	for _, sh := range s.List {
		if sh.Note != "" {
			fmt.Fprintf(w, "\n- %s", mdCell(shardNote(sh)))
		}
	}
	fmt.Fprintln(w)
}

// shardNote is the merge's note on a shard, named ("shard 1: interrupted")
// unless the note names it already.
func shardNote(s report.ShardSummary) string {
	name := fmt.Sprintf("shard %d", s.Index)
	if strings.HasPrefix(s.Note, name) {
		return s.Note
	}
	return name + ": " + s.Note
}

func joinCells(cells []string) string {
	out := ""
	for i, c := range cells {
		if i > 0 {
			out += " | "
		}
		out += mdCell(c)
	}
	return out
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
