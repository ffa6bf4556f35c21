//! A UDP relay in front of the server's media socket that drops a share of the packets
//! both ways. Clients reach it as the server's candidate address; it keeps one upstream
//! socket per client, so the server sees one address per client as usual.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::UdpSocket;

/// Packets the relay passed and dropped.
#[derive(Debug, Default)]
pub struct Counts {
    pub passed: AtomicU64,
    pub dropped: AtomicU64,
}

impl Counts {
    pub fn drop_share(&self) -> f64 {
        let (p, d) = (self.passed.load(Ordering::Relaxed), self.dropped.load(Ordering::Relaxed));
        d as f64 / (p + d).max(1) as f64
    }
}

pub struct LossyRelay {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    front: Arc<UdpSocket>,
    loss_per_mille: u64,
}

/// A cheap deterministic generator (xorshift), so a run's drops are spread evenly.
fn coin(state: &mut u64, per_mille: u64) -> bool {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state % 1000 < per_mille
}

impl LossyRelay {
    /// Binds the relay's front (the address the server must announce).
    pub async fn bind(loss_per_mille: u64) -> Self {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind relay"));
        let addr = front.local_addr().expect("addr");
        Self { addr, counts: Arc::default(), front, loss_per_mille }
    }

    /// Relays between clients and `upstream` (the server's media socket).
    pub fn start(&self, upstream: SocketAddr) {
        let (front, counts, loss) = (self.front.clone(), self.counts.clone(), self.loss_per_mille);
        tokio::spawn(async move {
            let mut clients: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut rng = 0x9e37_79b9_7f4a_7c15u64;
            let mut buf = vec![0u8; 2048];
            loop {
                let Ok((n, client)) = front.recv_from(&mut buf).await else { return };
                let socket = match clients.get(&client) {
                    Some(s) => s.clone(),
                    None => {
                        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.expect("bind upstream"));
                        clients.insert(client, socket.clone());
                        let (back, front, counts) = (socket.clone(), front.clone(), counts.clone());
                        tokio::spawn(async move {
                            let mut rng = 0x2545_f491_4f6c_dd1du64 ^ u64::from(client.port());
                            let mut buf = vec![0u8; 2048];
                            while let Ok((n, _)) = back.recv_from(&mut buf).await {
                                if coin(&mut rng, loss) {
                                    counts.dropped.fetch_add(1, Ordering::Relaxed);
                                } else {
                                    counts.passed.fetch_add(1, Ordering::Relaxed);
                                    let _ = front.send_to(&buf[..n], client).await;
                                }
                            }
                        });
                        socket
                    }
                };
                if coin(&mut rng, loss) {
                    counts.dropped.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.passed.fetch_add(1, Ordering::Relaxed);
                    let _ = socket.send_to(&buf[..n], upstream).await;
                }
            }
        });
    }
}
