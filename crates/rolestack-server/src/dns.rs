//! The resolver inside instances (and `rolestack exec`'s workstation namespace): it answers
//! Alibaba Cloud's service names ([`rolestack_core::endpoints`]) with the namespace's own loopback
//! address, where rolestack listens on ports 80 and 443, and everything else with NXDOMAIN at once.
//! It forwards nothing: no query ever leaves the namespace, and a program that looks up any other
//! name fails fast instead of hanging.
//!
//! Messages are parsed and built with hickory-proto; this module only decides the answers.
//! It serves UDP and TCP (length-prefixed) on the same port, as resolvers expect.

use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// How long answers may be cached (seconds): names never move while a server runs.
const TTL: u32 = 60;

/// Answers for the service names; the address they resolve to.
#[derive(Debug, Clone, Copy)]
pub struct Resolver {
    pub address: Ipv4Addr,
}

impl Resolver {
    /// The response to one query message (`None` for bytes that are not a DNS query).
    pub fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        if request.message_type() != MessageType::Query {
            return None;
        }
        let mut response = Message::new();
        response
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_recursion_desired(request.recursion_desired())
            .set_recursion_available(false)
            .set_authoritative(true);
        response.add_queries(request.queries().iter().cloned());
        if request.op_code() != OpCode::Query || request.queries().len() != 1 {
            response.set_response_code(ResponseCode::NotImp);
            return response.to_vec().ok();
        }
        let q = &request.queries()[0];
        let name = q.name().to_ascii();
        let known = rolestack_core::endpoints::classify(&name).is_some();
        if !known {
            response.set_response_code(ResponseCode::NXDomain);
        } else if q.query_type() == RecordType::A {
            response.add_answer(Record::from_rdata(q.name().clone(), TTL, RData::A(A(self.address))));
        }
        // A known name asked for another type (AAAA, ...): no error, no records (NODATA), so
        // clients fall back to the A record instead of failing.
        response.to_vec().ok()
    }

    /// Serves UDP and TCP on the given sockets until the task is dropped.
    pub async fn serve(self, udp: UdpSocket, tcp: TcpListener) {
        let this = Arc::new(self);
        let udp_task = {
            let this = this.clone();
            async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let Ok((n, from)) = udp.recv_from(&mut buf).await else { continue };
                    if let Some(reply) = this.answer(&buf[..n]) {
                        let _ = udp.send_to(&reply, from).await;
                    }
                }
            }
        };
        let tcp_task = async move {
            loop {
                let Ok((mut stream, _)) = tcp.accept().await else { continue };
                let this = this.clone();
                tokio::spawn(async move {
                    // One or more length-prefixed messages; a slow or silent client is dropped.
                    let read = async {
                        loop {
                            let len = stream.read_u16().await.ok()? as usize;
                            let mut msg = vec![0u8; len];
                            stream.read_exact(&mut msg).await.ok()?;
                            let reply = this.answer(&msg)?;
                            stream.write_u16(reply.len() as u16).await.ok()?;
                            stream.write_all(&reply).await.ok()?;
                        }
                        #[allow(unreachable_code)]
                        Some(())
                    };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), read).await;
                });
            }
        };
        tokio::join!(udp_task, tcp_task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use hickory_proto::rr::Name;

    fn ask(name: &str, ty: RecordType) -> Message {
        let mut m = Message::new();
        m.set_id(7).set_message_type(MessageType::Query).set_op_code(OpCode::Query).set_recursion_desired(true);
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), ty));
        let r = Resolver { address: Ipv4Addr::LOCALHOST };
        Message::from_vec(&r.answer(&m.to_vec().unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn service_names_resolve_to_loopback() {
        for name in ["sts.aliyuncs.com.", "ramroletest.oss-cn-hangzhou.aliyuncs.com.", "ECS-CN-HANGZHOU.aliyuncs.com."] {
            let r = ask(name, RecordType::A);
            assert_eq!(r.id(), 7);
            assert_eq!(r.response_code(), ResponseCode::NoError, "{name}");
            assert_eq!(r.answers().len(), 1);
            assert_eq!(r.answers()[0].data(), &RData::A(A(Ipv4Addr::LOCALHOST)));
        }
        let aaaa = ask("sts.aliyuncs.com.", RecordType::AAAA);
        assert_eq!(aaaa.response_code(), ResponseCode::NoError);
        assert!(aaaa.answers().is_empty());
    }

    #[test]
    fn other_names_do_not_exist() {
        for name in ["example.com.", "www.aliyun.com.", "evil.aliyuncs.com."] {
            let r = ask(name, RecordType::A);
            assert_eq!(r.response_code(), ResponseCode::NXDomain, "{name}");
            assert!(r.answers().is_empty());
        }
        assert!(Resolver { address: Ipv4Addr::LOCALHOST }.answer(b"junk").is_none());
    }
}
