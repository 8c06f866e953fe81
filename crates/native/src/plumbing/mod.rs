//! fd and memory plumbing for transports (vhost-user): UNIX sockets with SCM_RIGHTS, eventfd,
//! memfd, mmap of shared memory, and an epoll readiness thread. Linux only: eventfd, epoll, memfd
//! and the vhost-user protocol itself are Linux interfaces.

pub mod eventfd;
pub mod fd;
pub mod mapping;
pub mod poller;
pub mod sigbus_guard;
pub mod unix_socket;
