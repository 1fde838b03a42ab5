//! Pod IPs of the process node.
//!
//! A pod on a cluster gets an address every other pod, Service and the API
//! server can reach, and Kubernetes refuses loopback ones where it matters:
//! an EndpointSlice or Endpoints address may not be in 127.0.0.0/8
//! (`ValidateEndpointIP`, kubernetes `pkg/apis/core/validation`), and the API
//! server's pod and service proxy dial only addresses that are not loopback
//! (`proxyutil.IsProxyableIP`). So, where the node may configure the host's
//! network (root, as on CI and the README's fresh machine), it takes a /23 of
//! 198.18.0.0/15 (RFC 2544, reserved for network tests and never routed) as
//! one `local` route on `lo` (Linux's "AnyIP": every address of the block is
//! the machine's own, every process can bind one, and Kubernetes takes it as
//! a pod IP), added once when the node starts. No address is added or
//! removed per pod: programs watching the host's addresses (Chromium drops a
//! page load with `ERR_NETWORK_CHANGED` when they change) see nothing. The
//! route stays when the node stops (a host-scoped route of an unrouted
//! range; a later node of the same block reuses it). Elsewhere the node
//! falls back to 127.0.0.0/8 and says what that costs (no Service endpoints,
//! no API server proxy).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::{Mutex, PoisonError};

/// Addresses per node: a /23 of 198.18.0.0/15, or of 127.0.0.0/8.
const BLOCK: u32 = 512;

/// Where the node's pod IPs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// 198.18.0.0/15 addresses, local through the node's `local` route.
    TestNetwork,
    /// 127.0.0.0/8 addresses, which Linux routes to `lo` whole.
    Loopback,
}

/// Allocates, configures and releases pod IPs.
#[derive(Debug)]
pub struct PodNetwork {
    kind: AddressKind,
    /// The first address of the node's block.
    base: u32,
    in_use: Mutex<(u32, BTreeSet<u32>)>,
}

impl PodNetwork {
    /// A block at random for this node (so that two local clusters on one
    /// machine rarely share one), of the test network when its `local`
    /// route can be added here, else of loopback.
    pub async fn new() -> PodNetwork {
        let block = rand::random_range(0..256u32);
        let test_network = u32::from(Ipv4Addr::new(198, 18, 0, 0)) + block * BLOCK;
        let route = format!("{}/23", Ipv4Addr::from(test_network));
        let added = match ip(&["route", "add", "local", &route, "dev", "lo"]).await {
            // Left by an earlier node of this block: local all the same.
            Err(message) if !message.contains("File exists") => Err(message),
            _ => Ok(()),
        };
        let (kind, base) = match added {
            Ok(()) => (AddressKind::TestNetwork, test_network),
            Err(message) => {
                tracing::warn!(
                    message,
                    "the process node cannot add a local route to lo (needs root): pods get \
                     loopback IPs, which Kubernetes keeps out of Service endpoints and the API \
                     server's proxy"
                );
                // 127.0.0.0/16 is left to the machine.
                let loopback = u32::from(Ipv4Addr::new(127, 1, 0, 0)) + (block % 255) * BLOCK;
                (AddressKind::Loopback, loopback)
            }
        };
        PodNetwork {
            kind,
            base,
            in_use: Mutex::new((0, BTreeSet::new())),
        }
    }

    /// Where this node's addresses come from.
    pub fn kind(&self) -> AddressKind {
        self.kind
    }

    /// The next free address of the block (its first two and last are
    /// skipped, as a subnet's network, gateway and broadcast).
    ///
    /// # Errors
    /// When every address of the block is in use.
    pub fn allocate(&self) -> Result<Ipv4Addr, String> {
        let mut guard = self.in_use.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, used) = &mut *guard;
        let free = (0..BLOCK)
            .map(|step| 2 + (*next + step) % (BLOCK - 3))
            .find(|offset| !used.contains(offset))
            .ok_or("every address of the node's block is in use")?;
        used.insert(free);
        *next = free - 1;
        Ok(Ipv4Addr::from(self.base + free))
    }

    /// Gives `address` back.
    pub fn release(&self, address: Ipv4Addr) {
        if self.owns(address) {
            self.forget(address);
        }
    }

    fn owns(&self, address: Ipv4Addr) -> bool {
        let n = u32::from(address);
        n >= self.base && n < self.base + BLOCK
    }

    fn forget(&self, address: Ipv4Addr) {
        let offset = u32::from(address) - self.base;
        self.in_use
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .remove(&offset);
    }
}

/// Runs iproute2's `ip` with `args`.
async fn ip(args: &[&str]) -> Result<(), String> {
    let output = tokio::process::Command::new("ip")
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|error| format!("ip: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> PodNetwork {
        PodNetwork {
            kind: AddressKind::Loopback,
            base: u32::from(Ipv4Addr::new(127, 1, 2, 0)),
            in_use: Mutex::new((0, BTreeSet::new())),
        }
    }

    #[test]
    fn addresses_are_not_given_twice_and_come_back_when_released() {
        let network = loopback();
        let first = network.allocate().expect("first");
        let second = network.allocate().expect("second");
        assert_eq!(first, Ipv4Addr::new(127, 1, 2, 2));
        assert_eq!(second, Ipv4Addr::new(127, 1, 2, 3));
        network.release(first);
        // Round robin: a released address waits until the others were used.
        let third = network.allocate().expect("third");
        assert_eq!(third, Ipv4Addr::new(127, 1, 2, 4));
    }

    #[test]
    fn a_full_block_says_so() {
        let network = loopback();
        for _ in 0..(BLOCK - 3) {
            network.allocate().expect("an address");
        }
        let error = network.allocate().expect_err("full");
        assert!(error.contains("in use"), "{error}");
        network.release(Ipv4Addr::new(127, 1, 2, 9));
        assert_eq!(
            network.allocate().expect("the released one"),
            Ipv4Addr::new(127, 1, 2, 9)
        );
    }
}
