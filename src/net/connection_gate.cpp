#include "net/connection_gate.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/metrics.h"
#include "core/time.h"

namespace cascade::net {

std::string_view to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return "none";
    case Refusal::kMaxConnections:
      return "max_connections";
    case Refusal::kMaxConnectionsPerIp:
      return "max_connections_per_ip";
    case Refusal::kAcceptRate:
      return "accept_rate";
  }
  return "unknown";
}

ConnectionTicket::ConnectionTicket(ConnectionTicket&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)), ip_(other.ip_) {}

ConnectionTicket& ConnectionTicket::operator=(ConnectionTicket&& other) noexcept {
  if (this != &other) {
    release();
    gate_ = std::exchange(other.gate_, nullptr);
    ip_ = other.ip_;
  }
  return *this;
}

void ConnectionTicket::release() {
  if (ConnectionGate* gate = std::exchange(gate_, nullptr)) gate->release(ip_);
}

ConnectionGate::ConnectionGate(ConnectionLimits limits, Clock clock)
    : limits_(limits),
      clock_(std::move(clock)),
      open_gauge_(Metrics::global().gauge("cascade_connections_open")) {}

int64_t ConnectionGate::now_ms() const {
  return clock_ ? clock_() : steady_now_ms();
}

size_t ConnectionGate::IpKeyHash::operator()(const IpKey& key) const {
  uint64_t a, b;
  std::memcpy(&a, key.data(), 8);
  std::memcpy(&b, key.data() + 8, 8);
  return std::hash<uint64_t>{}(a ^ (b * 0x9E3779B97F4A7C15ull));
}

ConnectionGate::IpKey ConnectionGate::key_of(const boost::asio::ip::address& ip) {
  IpKey key{};
  if (ip.is_v6() && !ip.to_v6().is_v4_mapped()) {
    // Per /64: the interface identifier is the host's to choose.
    const auto bytes = ip.to_v6().to_bytes();
    std::copy_n(bytes.begin(), 8, key.begin());
    return key;
  }
  const auto v4 = ip.is_v4()
                      ? ip.to_v4()
                      : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6());
  const auto bytes = v4.to_bytes();
  // Laid out as the IPv4-mapped form, so it cannot collide with a /64 key.
  key[10] = 0xFF;
  key[11] = 0xFF;
  std::copy(bytes.begin(), bytes.end(), key.begin() + 12);
  return key;
}

double ConnectionGate::burst() const {
  return double(limits_.accept_burst_per_ip > 0 ? limits_.accept_burst_per_ip
                                                : limits_.accept_rate_per_ip);
}

void ConnectionGate::refill(PerIp& entry, int64_t now_ms) const {
  if (limits_.accept_rate_per_ip == 0) return;
  const int64_t elapsed = std::max<int64_t>(0, now_ms - entry.refilled_ms);
  entry.tokens =
      std::min(burst(), entry.tokens + double(elapsed) * limits_.accept_rate_per_ip / 1000.0);
  entry.refilled_ms = now_ms;
}

bool ConnectionGate::idle(PerIp& entry, int64_t now_ms) const {
  if (entry.open > 0) return false;
  refill(entry, now_ms);
  return limits_.accept_rate_per_ip == 0 || entry.tokens >= burst();
}

void ConnectionGate::sweep(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < 1000) return;
  last_sweep_ms_ = now_ms;
  for (auto it = ips_.begin(); it != ips_.end();) {
    it = idle(it->second, now_ms) ? ips_.erase(it) : std::next(it);
  }
}

ConnectionGate::Admission ConnectionGate::admit(const boost::asio::ip::address& ip) {
  auto reserve_total = [this] {
    if (limits_.max_connections == 0) {
      open_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    uint64_t current = open_.load(std::memory_order_relaxed);
    while (current < limits_.max_connections) {
      if (open_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  };
  if (!tracks_ips()) {
    if (!reserve_total()) return {{}, Refusal::kMaxConnections};
    open_gauge_.add(1);
    return {ConnectionTicket(this, IpKey{}), Refusal::kNone};
  }

  const IpKey key = key_of(ip);
  const int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  sweep(now);
  auto [it, inserted] = ips_.try_emplace(key);
  PerIp& entry = it->second;
  if (inserted) {
    entry.tokens = burst();  // a new IP starts with a full bucket
    entry.refilled_ms = now;
  }
  refill(entry, now);
  Refusal refusal = Refusal::kNone;
  if (limits_.accept_rate_per_ip > 0 && entry.tokens < 1.0) {
    refusal = Refusal::kAcceptRate;
  } else if (limits_.max_connections_per_ip > 0 && entry.open >= limits_.max_connections_per_ip) {
    refusal = Refusal::kMaxConnectionsPerIp;
  } else if (!reserve_total()) {
    refusal = Refusal::kMaxConnections;
  }
  if (refusal != Refusal::kNone) {
    if (idle(entry, now)) ips_.erase(it);
    return {{}, refusal};
  }
  if (limits_.accept_rate_per_ip > 0) entry.tokens -= 1.0;
  ++entry.open;
  open_gauge_.add(1);
  return {ConnectionTicket(this, key), Refusal::kNone};
}

void ConnectionGate::release(const IpKey& ip) {
  open_.fetch_sub(1, std::memory_order_relaxed);
  open_gauge_.sub(1);
  if (!tracks_ips()) return;
  const int64_t now = now_ms();
  std::lock_guard lock(mutex_);
  auto it = ips_.find(ip);
  if (it == ips_.end()) return;
  if (it->second.open > 0) --it->second.open;
  if (idle(it->second, now)) ips_.erase(it);
}

size_t ConnectionGate::tracked_ips() const {
  std::lock_guard lock(mutex_);
  return ips_.size();
}

}  // namespace cascade::net
