// Command kubestack is a multi-call binary holding the three parts of dataport's
// test control plane, built from the official Go modules at one pinned version:
//
//	kubestack etcd [etcd flags]
//	kubestack kube-apiserver [kube-apiserver flags]
//	kubestack kube-controller-manager [kube-controller-manager flags]
//
// One binary instead of three links once and is cached as one file; each part
// runs in its own process, so their global state never meets (the way
// hyperkube used to ship Kubernetes).
package main

import (
	"fmt"
	"os"

	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kubestack etcd|kube-apiserver|kube-controller-manager [flags]")
		os.Exit(2)
	}
	part, args := os.Args[1], os.Args[2:]
	switch part {
	case "etcd":
		etcdmain.Main(append([]string{"etcd"}, args...))
	case "kube-apiserver":
		cmd := apiserver.NewAPIServerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	case "kube-controller-manager":
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(args)
		os.Exit(cli.Run(cmd))
	default:
		fmt.Fprintf(os.Stderr, "kubestack: unknown part %q\n", part)
		os.Exit(2)
	}
}
