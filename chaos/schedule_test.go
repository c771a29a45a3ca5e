package chaos

import (
	"math"
	"slices"
	"testing"
	"time"
)

const ms = time.Millisecond

func TestScheduleActive(t *testing.T) {
	s := Schedule{
		{Start: 10 * time.Second, Duration: 20 * time.Second}, // 0: [10s, 30s)
		{Start: 30 * time.Second, Duration: 5 * time.Second},  // 1: [30s, 35s), back to back with 0
		{Start: 0, Duration: 0},                               // 2: from 0 until stopped
		{Start: -time.Second, Duration: time.Second},          // 3: negative start is 0: [0, 1s)
		{Start: time.Hour, Duration: math.MaxInt64},           // 4: end overflows: clamped
	}
	for _, tc := range []struct {
		at   time.Duration
		want []int
	}{
		{0, []int{2, 3}},
		{999 * ms, []int{2, 3}},
		{time.Second, []int{2}},
		{10 * time.Second, []int{0, 2}},
		{29999 * ms, []int{0, 2}},
		{30 * time.Second, []int{1, 2}},
		{35 * time.Second, []int{2}},
		{time.Hour, []int{2, 4}},
		{math.MaxInt64 - 1, []int{2, 4}},
	} {
		if got := s.Active(tc.at); !slices.Equal(got, tc.want) {
			t.Errorf("Active(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if got := (Schedule{}).Active(time.Second); len(got) != 0 {
		t.Errorf("empty schedule: %v", got)
	}
}

func TestScheduleTransitions(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Schedule
		want []Transition
	}{
		{"empty", nil, []Transition{}},
		{"back to back: the revert comes first", Schedule{
			{Start: 0, Duration: 10 * ms},
			{Start: 10 * ms, Duration: 10 * ms},
		}, []Transition{
			{0, 0, true}, {10 * ms, 0, false}, {10 * ms, 1, true}, {20 * ms, 1, false},
		}},
		{"same end: the later-injected is reverted first", Schedule{
			{Start: 0, Duration: 30 * ms},
			{Start: 10 * ms, Duration: 20 * ms},
			{Start: 10 * ms, Duration: 20 * ms},
		}, []Transition{
			{0, 0, true}, {10 * ms, 1, true}, {10 * ms, 2, true},
			{30 * ms, 2, false}, {30 * ms, 1, false}, {30 * ms, 0, false},
		}},
		{"open-ended: no revert", Schedule{
			{Start: 5 * ms},
		}, []Transition{{5 * ms, 0, true}}},
		{"nested", Schedule{
			{Start: 0, Duration: 100 * ms},
			{Start: 20 * ms, Duration: 10 * ms},
		}, []Transition{
			{0, 0, true}, {20 * ms, 1, true}, {30 * ms, 1, false}, {100 * ms, 0, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Transitions(); !slices.Equal(got, tc.want) {
				t.Errorf("Transitions() =\n%v\nwant\n%v", got, tc.want)
			}
		})
	}
}
