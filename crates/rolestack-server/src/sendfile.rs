//! Plain TCP that sends mapped blob bytes with `sendfile(2)`: an object body goes from the page
//! cache to the socket without being copied through user memory, and its mapping is never
//! touched (no page faults; see `rolestack_core::oss::file_bytes`).
//!
//! hyper still does all the HTTP/1 framing: it hands the stream the head and the body's `Bytes`
//! to write (one `writev` of both, its queued write strategy). [`SendfileTcp`] looks up each
//! large buffer it is given; a buffer registered as a file's bytes is sent with `sendfile` from
//! that file and offset instead of from memory, and the buffers before it are written with
//! `MSG_MORE` (so a head and its body take two system calls instead of one, but the head leaves
//! in the body's first segment, not in a small segment of its own: in the OSS GET benchmark the
//! median rounds went from 0.69–0.79× to 0.74–0.88× of nginx, docs/STATUS.md). The bytes on the wire are the
//! same; only how they reach the socket changes. TLS never sees this: rustls writes ciphertext
//! from its own buffers, which are never registered.

use std::io::{self, IoSlice};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use nix::errno::Errno;
use nix::sys::socket::MsgFlags;
use rolestack_core::oss::file_bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream whose writes of registered file bytes go out with `sendfile`.
pub struct SendfileTcp(pub TcpStream);

impl SendfileTcp {
    /// Runs the write `io` once the socket is writable: how many bytes it wrote, retrying when
    /// the readiness was stale (`WouldBlock`).
    fn poll_io(&self, cx: &mut Context<'_>, mut io: impl FnMut() -> io::Result<usize>) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            match self.0.try_io(Interest::WRITABLE, &mut io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    /// Sends `len` bytes of `file` from `offset`: how many were sent (at least one), once the
    /// socket takes some.
    fn poll_sendfile(&self, cx: &mut Context<'_>, file: &std::fs::File, offset: u64, len: usize) -> Poll<io::Result<usize>> {
        self.poll_io(cx, || {
            let mut at = i64::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            nix::sys::sendfile::sendfile64(self.0.as_fd(), file.as_fd(), Some(&mut at), len).map_err(io::Error::from)
        })
    }

    /// Writes `bufs` with `MSG_MORE`: more bytes follow at once, so the kernel holds a partial
    /// segment back for them (the head of an answer whose body goes out with `sendfile` next
    /// leaves in the body's first segment instead of a segment of its own).
    fn poll_write_more(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let flags = MsgFlags::from_bits_retain(nix::libc::MSG_MORE) | MsgFlags::MSG_NOSIGNAL;
        self.poll_io(cx, || nix::sys::socket::sendmsg::<()>(self.0.as_raw_fd(), bufs, &[], flags, None).map_err(io::Error::from))
    }

    /// Writes `buf`, which holds `file`'s bytes from `offset`, with `sendfile`; from memory
    /// when the file system cannot (`EINVAL`, `ENOSYS`) or sendfile sends nothing (the file
    /// shorter than its mapping, which immutable blobs never are: memory fails as it always did).
    fn poll_write_file(&mut self, cx: &mut Context<'_>, buf: &[u8], file: &std::fs::File, offset: u64) -> Poll<io::Result<usize>> {
        match ready!(self.poll_sendfile(cx, file, offset, buf.len())) {
            Ok(0) => {}
            Err(e) if [Errno::EINVAL, Errno::ENOSYS].iter().any(|n| e.raw_os_error() == Some(*n as i32)) => {}
            done => return Poll::Ready(done),
        }
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
}

impl AsyncRead for SendfileTcp {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileTcp {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match file_bytes::lookup(buf) {
            Some((file, offset)) => self.poll_write_file(cx, buf, &file, offset),
            None => Pin::new(&mut self.0).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        for (i, buf) in bufs.iter().enumerate() {
            if let Some((file, offset)) = file_bytes::lookup(buf) {
                return if i == 0 {
                    self.poll_write_file(cx, buf, &file, offset)
                } else {
                    // What comes before the file's bytes (the head), with MSG_MORE: the file's
                    // bytes come next, so the kernel sends the head with them instead of alone.
                    self.poll_write_more(cx, &bufs[..i])
                };
            }
        }
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    fn file_with(data: &[u8]) -> Arc<std::fs::File> {
        let path = std::env::temp_dir().join(format!("sendfile-test-{}", uuid::Uuid::new_v4()));
        let mut f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f.write_all(data).unwrap();
        Arc::new(f)
    }

    /// Writes `bufs` vectored through a [`SendfileTcp`] and returns what the peer received.
    async fn send(bufs: Vec<Vec<u8>>) -> Vec<u8> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let total: usize = bufs.iter().map(Vec::len).sum();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0; total];
            s.read_exact(&mut got).await.unwrap();
            got
        });
        let mut stream = SendfileTcp(TcpStream::connect(addr).await.unwrap());
        let mut left: Vec<&[u8]> = bufs.iter().map(Vec::as_slice).collect();
        while left.iter().any(|b| !b.is_empty()) {
            let slices: Vec<IoSlice<'_>> = left.iter().filter(|b| !b.is_empty()).map(|b| IoSlice::new(b)).collect();
            let mut n = stream.write_vectored(&slices).await.unwrap();
            assert!(n > 0);
            for b in left.iter_mut() {
                let k = n.min(b.len());
                *b = &b[k..];
                n -= k;
            }
        }
        stream.flush().await.unwrap();
        reader.await.unwrap()
    }

    #[tokio::test]
    async fn registered_bytes_go_out_from_their_file_and_the_rest_from_memory() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 262144\r\n\r\n".to_vec();
        let body: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
        // The file differs from the memory registered as its bytes (a broken promise, made here
        // on purpose): what arrives shows which one was sent. The registered range starts 1000
        // bytes into the file and the buffer written 4096 bytes into the range.
        let mut on_disk = vec![0xAB; 1000];
        on_disk.extend(body.iter().map(|b| b ^ 0xFF));
        let file = file_with(&on_disk);
        let registration = unsafe { file_bytes::register(&body, file, 1000) };
        let sent = send(vec![head.clone(), body[4096..].to_vec()]).await;
        // A copy of the bytes lives elsewhere in memory: not registered, sent from memory.
        assert_eq!(sent, [head.clone(), body[4096..].to_vec()].concat());

        // The registered memory itself: the file's bytes at the matching offset.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let want = body.len() - 4096;
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = vec![0; head.len() + want];
            s.read_exact(&mut got).await.unwrap();
            got
        });
        let mut stream = SendfileTcp(TcpStream::connect(addr).await.unwrap());
        let head2 = b"HTTP/1.1 200 OK\r\ncontent-length: 262144\r\n\r\n";
        let first = stream.write_vectored(&[IoSlice::new(head2), IoSlice::new(&body[4096..])]).await.unwrap();
        assert_eq!(first, head2.len(), "the head alone first, then the file's bytes");
        let mut at = 4096;
        while at < body.len() {
            at += stream.write(&body[at..]).await.unwrap();
        }
        stream.flush().await.unwrap();
        let got = reader.await.unwrap();
        assert_eq!(&got[..head2.len()], head2);
        assert_eq!(&got[head2.len()..], &on_disk[1000 + 4096..]);
        drop(registration);
    }
}
