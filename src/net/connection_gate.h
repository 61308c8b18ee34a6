// ConnectionGate: admission control for accepted TCP connections, shared by
// every listener: a cap on open connections in total and per client IP, and
// a per-IP accept rate (token bucket: `accept_rate_per_ip` new connections a
// second, up to `accept_burst_per_ip` at once).
//
// Consulted by TcpListener right after accept(2), before any per-connection
// allocation. An admitted connection gets a ConnectionTicket, carried by its
// session object; the ticket's destruction (the session dying, on whatever
// worker) gives the slot back.
//
// Threads: admit() runs on the accepting worker, tickets are released on any
// worker. Both take one short mutex (only when a per-IP limit is set; the
// total is an atomic), never anything per packet.
//
// Memory: per-IP state exists only while an IP has open connections or its
// bucket is refilling. An entry is dropped when its count returns to 0 and
// its bucket is full again (at release, or by a sweep at most once a
// second from admit()), so the table holds at most the IPs with open
// connections plus those that connected within the last
// burst / rate seconds.
//
// IPv6 clients are counted per /64 (one host or home network usually owns a
// whole /64, so per-address limits would be trivial to dodge); IPv4-mapped
// IPv6 addresses count as their IPv4 address.
//
// Metrics: cascade_connections_open counts the connections holding a ticket
// (the listeners' refusals are counted by TcpListener).
//
// Contract: the gate outlives every ticket it issued.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "core/metrics.h"

namespace cascade::net {

struct ConnectionLimits {
  uint32_t max_connections = 0;         // open, all listeners; 0: unlimited
  uint32_t max_connections_per_ip = 0;  // open, per client IP; 0: unlimited
  uint32_t accept_rate_per_ip = 0;      // new connections per second; 0: unlimited
  uint32_t accept_burst_per_ip = 0;     // bucket size; 0: accept_rate_per_ip
};

enum class Refusal {
  kNone,
  kMaxConnections,
  kMaxConnectionsPerIp,
  kAcceptRate,
};
// The metric label / log word: "max_connections", "max_connections_per_ip",
// "accept_rate".
std::string_view to_string(Refusal refusal);

class ConnectionGate;

// One admitted connection's slot. Move-only; releases on destruction.
class ConnectionTicket {
 public:
  ConnectionTicket() = default;
  ConnectionTicket(ConnectionTicket&& other) noexcept;
  ConnectionTicket& operator=(ConnectionTicket&& other) noexcept;
  ConnectionTicket(const ConnectionTicket&) = delete;
  ConnectionTicket& operator=(const ConnectionTicket&) = delete;
  ~ConnectionTicket() { release(); }

  // True while it holds a slot.
  explicit operator bool() const { return gate_ != nullptr; }
  void release();

 private:
  friend class ConnectionGate;
  using IpKey = std::array<uint8_t, 16>;
  ConnectionTicket(ConnectionGate* gate, const IpKey& ip) : gate_(gate), ip_(ip) {}

  ConnectionGate* gate_ = nullptr;
  IpKey ip_{};
};

class ConnectionGate {
 public:
  // Milliseconds on a monotonic clock; tests pass a fake one.
  using Clock = std::function<int64_t()>;

  explicit ConnectionGate(ConnectionLimits limits, Clock clock = {});
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  struct Admission {
    ConnectionTicket ticket;  // holds a slot when admitted
    Refusal refusal = Refusal::kNone;
    bool admitted() const { return refusal == Refusal::kNone; }
  };
  // Admits a new connection from `ip`, or says which limit refuses it. A
  // refused attempt takes no token from the IP's bucket.
  Admission admit(const boost::asio::ip::address& ip);

  const ConnectionLimits& limits() const { return limits_; }
  // Connections holding a ticket now.
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }
  // IPs with per-IP state now (bounded, see above).
  size_t tracked_ips() const;

 private:
  friend class ConnectionTicket;
  using IpKey = ConnectionTicket::IpKey;
  struct IpKeyHash {
    size_t operator()(const IpKey& key) const;
  };
  struct PerIp {
    uint32_t open = 0;
    double tokens = 0;  // in connections; refilled lazily
    int64_t refilled_ms = 0;
  };

  static IpKey key_of(const boost::asio::ip::address& ip);
  bool tracks_ips() const {
    return limits_.max_connections_per_ip > 0 || limits_.accept_rate_per_ip > 0;
  }
  double burst() const;
  // Brings `entry`'s bucket up to `now_ms`. Caller holds mutex_.
  void refill(PerIp& entry, int64_t now_ms) const;
  bool idle(PerIp& entry, int64_t now_ms) const;
  // Drops idle entries, at most once a second. Caller holds mutex_.
  void sweep(int64_t now_ms);
  void release(const IpKey& ip);
  int64_t now_ms() const;

  const ConnectionLimits limits_;
  const Clock clock_;
  std::atomic<uint64_t> open_{0};
  Gauge& open_gauge_;
  mutable std::mutex mutex_;
  std::unordered_map<IpKey, PerIp, IpKeyHash> ips_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace cascade::net
