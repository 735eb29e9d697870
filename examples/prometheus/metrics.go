package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch"
)

// promMetrics exports the dispatcher's measurements as Prometheus metrics.
type promMetrics struct {
	received   *prometheus.CounterVec
	age        *prometheus.HistogramVec
	spawn      *prometheus.HistogramVec
	jobs       *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	heartbeats *prometheus.CounterVec
	dlq        *prometheus.CounterVec
	peakRSS    *prometheus.HistogramVec
	cpu        *prometheus.CounterVec
	busy       prometheus.Gauge
	slots      prometheus.Gauge
	inFlight   *prometheus.GaugeVec
	backlog    *prometheus.GaugeVec
	perDisp    *prometheus.GaugeVec
}

func newPromMetrics(reg prometheus.Registerer) *promMetrics {
	m := &promMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sqsdispatch_messages_received_total",
			Help: "Messages received."}, []string{"queue"}),
		age: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sqsdispatch_message_age_seconds",
			Help: "Age of messages when received.", Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"queue"}),
		spawn: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sqsdispatch_child_spawn_seconds",
			Help: "Time to get a child holding the message.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14)}, []string{"job"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sqsdispatch_jobs_total",
			Help: "Messages finished, by outcome."}, []string{"job", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sqsdispatch_job_duration_seconds",
			Help: "Time from receive to outcome.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 12)}, []string{"job", "outcome"}),
		heartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sqsdispatch_heartbeat_failures_total",
			Help: "Failed lease extensions."}, []string{"queue"}),
		dlq: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sqsdispatch_dead_lettered_total",
			Help: "Messages moved to a dead-letter queue."}, []string{"queue", "job"}),
		peakRSS: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "sqsdispatch_child_peak_rss_bytes",
			Help: "Peak resident memory of each job's child.", Buckets: prometheus.ExponentialBuckets(1<<20, 2, 14)}, []string{"job"}),
		cpu: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sqsdispatch_child_cpu_seconds_total",
			Help: "CPU time used by job children."}, []string{"job", "mode"}),
		busy: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sqsdispatch_slots_busy",
			Help: "Slots running a job."}),
		slots: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sqsdispatch_slots",
			Help: "Slots (Config.Concurrency)."}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sqsdispatch_messages_in_flight",
			Help: "Messages held by this dispatcher: received and not yet settled."}, []string{"queue"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sqsdispatch_queue_messages",
			Help: "The queue's approximate messages, as SQS reports them (Config.BacklogInterval)."}, []string{"queue", "state"}),
		perDisp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "sqsdispatch_backlog_per_dispatcher",
			Help: "Visible messages per dispatcher of the fleet: what ECS target tracking on SQS scales on."}, []string{"queue"}),
	}
	reg.MustRegister(m.received, m.age, m.spawn, m.jobs, m.duration, m.heartbeats, m.dlq, m.peakRSS, m.cpu,
		m.busy, m.slots, m.inFlight, m.backlog, m.perDisp)
	return m
}

func (m *promMetrics) MessageReceived(queue string, age time.Duration) {
	m.received.WithLabelValues(queue).Inc()
	m.age.WithLabelValues(queue).Observe(age.Seconds())
}

func (m *promMetrics) ChildSpawned(job string, latency time.Duration) {
	m.spawn.WithLabelValues(job).Observe(latency.Seconds())
}

func (m *promMetrics) JobFinished(job, outcome string, d time.Duration) {
	m.jobs.WithLabelValues(job, outcome).Inc()
	m.duration.WithLabelValues(job, outcome).Observe(d.Seconds())
}

func (m *promMetrics) HeartbeatFailed(queue string) { m.heartbeats.WithLabelValues(queue).Inc() }

func (m *promMetrics) DeadLettered(queue, job string) { m.dlq.WithLabelValues(queue, job).Inc() }

func (m *promMetrics) ChildUsage(job string, peakRSS int64, user, sys time.Duration) {
	m.peakRSS.WithLabelValues(job).Observe(float64(peakRSS))
	m.cpu.WithLabelValues(job, "user").Add(user.Seconds())
	m.cpu.WithLabelValues(job, "system").Add(sys.Seconds())
}

func (m *promMetrics) SlotsBusy(busy, slots int) {
	m.busy.Set(float64(busy))
	m.slots.Set(float64(slots))
}

func (m *promMetrics) InFlight(queue string, n int) {
	m.inFlight.WithLabelValues(queue).Set(float64(n))
}

func (m *promMetrics) Backlog(queue string, b sqsdispatch.Backlog) {
	m.backlog.WithLabelValues(queue, "visible").Set(float64(b.Visible))
	m.backlog.WithLabelValues(queue, "in_flight").Set(float64(b.InFlight))
	m.backlog.WithLabelValues(queue, "delayed").Set(float64(b.Delayed))
	m.perDisp.WithLabelValues(queue).Set(b.PerDispatcher)
}
