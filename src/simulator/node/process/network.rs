//! Pod IPs of the process node.
//!
//! A pod on a cluster gets an address every other pod, Service and the API
//! server can reach, and Kubernetes refuses loopback ones where it matters:
//! an EndpointSlice or Endpoints address may not be in 127.0.0.0/8
//! (`ValidateEndpointIP`, kubernetes `pkg/apis/core/validation`), and the API
//! server's pod and service proxy dial only addresses that are not loopback
//! (`proxyutil.IsProxyableIP`). So, where the node may configure the host's
//! network (root, as on CI and the README's fresh machine), each pod gets an
//! address of 198.18.0.0/15 (RFC 2544, reserved for network tests and never
//! routed) added to `lo` with iproute2's `ip`: local to the machine like a
//! loopback address, every process can bind it, and Kubernetes takes it as a
//! pod IP. Elsewhere the node falls back to 127.0.0.0/8 and says what that
//! costs (no Service endpoints, no API server proxy).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::{Mutex, PoisonError};

/// Addresses per node: a /23 of 198.18.0.0/15, or of 127.0.0.0/8.
const BLOCK: u32 = 512;

/// Where the node's pod IPs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// 198.18.0.0/15 addresses added to `lo` one per pod.
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
    /// machine rarely share one), of the test network when `ip addr add`
    /// works here, else of loopback.
    pub async fn new() -> PodNetwork {
        let kind = if ip(&["addr", "add", "198.19.255.255/32", "dev", "lo"])
            .await
            .is_ok()
        {
            let _ = ip(&["addr", "del", "198.19.255.255/32", "dev", "lo"]).await;
            AddressKind::TestNetwork
        } else {
            tracing::warn!(
                "the process node cannot add addresses to lo (needs root): pods get loopback \
                 IPs, which Kubernetes keeps out of Service endpoints and the API server's proxy"
            );
            AddressKind::Loopback
        };
        let block = rand::random_range(0..255u32);
        let base = match kind {
            // 198.18.0.0/15 holds 256 blocks; the last ends in the probe address.
            AddressKind::TestNetwork => u32::from(Ipv4Addr::new(198, 18, 0, 0)) + block * BLOCK,
            // 127.0.0.0/16 is left to the machine.
            AddressKind::Loopback => u32::from(Ipv4Addr::new(127, 1, 0, 0)) + block * BLOCK,
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
    /// skipped, as a subnet's network, gateway and broadcast), configured on
    /// `lo` for the test network.
    ///
    /// # Errors
    /// `ip`'s message when the address cannot be added.
    pub async fn allocate(&self) -> Result<Ipv4Addr, String> {
        let address = {
            let mut guard = self.in_use.lock().unwrap_or_else(PoisonError::into_inner);
            let (next, used) = &mut *guard;
            let free = (0..BLOCK)
                .map(|step| 2 + (*next + step) % (BLOCK - 3))
                .find(|offset| !used.contains(offset))
                .ok_or("every address of the node's block is in use")?;
            used.insert(free);
            *next = free - 1;
            Ipv4Addr::from(self.base + free)
        };
        if self.kind == AddressKind::TestNetwork {
            let cidr = format!("{address}/32");
            match ip(&["addr", "add", &cidr, "dev", "lo"]).await {
                // Left over from a node that was killed: local all the same.
                Err(message) if !message.contains("File exists") => {
                    self.forget(address);
                    return Err(message);
                }
                _ => {}
            }
        }
        Ok(address)
    }

    /// Gives `address` back (and takes it off `lo`).
    pub async fn release(&self, address: Ipv4Addr) {
        if !self.owns(address) {
            return;
        }
        if self.kind == AddressKind::TestNetwork {
            let cidr = format!("{address}/32");
            if let Err(message) = ip(&["addr", "del", &cidr, "dev", "lo"]).await {
                tracing::debug!(%address, message, "pod IP not removed from lo");
            }
        }
        self.forget(address);
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

    #[tokio::test]
    async fn addresses_are_not_given_twice_and_come_back_when_released() {
        let network = loopback();
        let first = network.allocate().await.expect("first");
        let second = network.allocate().await.expect("second");
        assert_eq!(first, Ipv4Addr::new(127, 1, 2, 2));
        assert_eq!(second, Ipv4Addr::new(127, 1, 2, 3));
        network.release(first).await;
        // Round robin: a released address waits until the others were used.
        let third = network.allocate().await.expect("third");
        assert_eq!(third, Ipv4Addr::new(127, 1, 2, 4));
    }

    #[tokio::test]
    async fn a_full_block_says_so() {
        let network = loopback();
        for _ in 0..(BLOCK - 3) {
            network.allocate().await.expect("an address");
        }
        let error = network.allocate().await.expect_err("full");
        assert!(error.contains("in use"), "{error}");
        network.release(Ipv4Addr::new(127, 1, 2, 9)).await;
        assert_eq!(
            network.allocate().await.expect("the released one"),
            Ipv4Addr::new(127, 1, 2, 9)
        );
    }
}
