// CoreDNS with only the plugins the local cluster's DNS uses (CoreDNS's documented way of
// choosing plugins: a main that imports them). No plugin that forwards: names outside the
// cluster's zones get no answer, so nothing leaves this machine. scripts/cluster.sh builds it
// as a package of its addons module (which pins CoreDNS's version); scripts/cluster-node.sh
// writes its Corefile.
package main

import (
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/ready"

	"github.com/coredns/coredns/coremain"
)

func main() {
	coremain.Run()
}
