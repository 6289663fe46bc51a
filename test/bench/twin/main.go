// Command twin: a controller-runtime operator doing the job of stack-operator for Stacks on the
// heat provider, the peer of `npm run bench -- --twin` (docs/benchmarks.md). Flags mirror the
// operator's `run` flags that the bench passes.
package main

import (
	"flag"
	"net/http"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

func main() {
	var metricsAddr, probeAddr, watchNamespace string
	var workers, burst int
	var qps float64
	var poll, resync time.Duration
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "metrics endpoint address")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "health probe address")
	flag.IntVar(&workers, "max-concurrent-reconciles", 10, "Stack workers (the operator's default)")
	flag.Float64Var(&qps, "kube-api-qps", 0, "client-side API requests per second (0: none, as the operator)")
	flag.IntVar(&burst, "kube-api-burst", 0, "burst above --kube-api-qps (default: qps)")
	flag.DurationVar(&poll, "poll-interval", 5*time.Second, "default provider poll interval")
	flag.DurationVar(&resync, "resync-interval", 10*time.Minute, "default resync interval at rest")
	flag.StringVar(&watchNamespace, "watch-namespace", "", "watch this namespace only (default: all)")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse() // --kubeconfig is registered by controller-runtime's config package
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	setup := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(addKnownTypes(scheme))

	cfg := ctrl.GetConfigOrDie()
	// The same client-side limit as the operator: none unless asked (a negative QPS disables
	// client-go's token bucket; GetConfig would otherwise default to 20 / 30).
	cfg.QPS, cfg.Burst = -1, 0
	if qps > 0 {
		if burst <= 0 {
			burst = int(qps)
		}
		cfg.QPS, cfg.Burst = float32(qps), burst
	}
	var cacheOpts cache.Options
	if watchNamespace != "" {
		cacheOpts.DefaultNamespaces = map[string]cache.Config{watchNamespace: {}}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Cache:                  cacheOpts,
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
	})
	if err != nil {
		setup.Error(err, "unable to start manager")
		os.Exit(1)
	}
	// One pooled connection per worker to the provider (net/http keeps 2 idle per host by default).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	r := &StackReconciler{
		Client:        mgr.GetClient(),
		HTTP:          &http.Client{Transport: tr, Timeout: 30 * time.Second},
		Workers:       workers,
		DefaultPoll:   poll,
		DefaultResync: resync,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		setup.Error(err, "unable to create controller")
		os.Exit(1)
	}
	utilruntime.Must(mgr.AddHealthzCheck("healthz", healthz.Ping))
	utilruntime.Must(mgr.AddReadyzCheck("readyz", healthz.Ping))
	setup.Info("starting manager", "workers", workers, "qps", cfg.QPS, "burst", cfg.Burst)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setup.Error(err, "problem running manager")
		os.Exit(1)
	}
}
