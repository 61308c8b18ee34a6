#include "net/connection_gate.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cascade::net {
namespace {

using boost::asio::ip::make_address;

struct FakeClock {
  int64_t now_ms = 1'000'000;
  ConnectionGate::Clock clock() {
    return [this] { return now_ms; };
  }
};

std::vector<ConnectionTicket> admit_n(ConnectionGate& gate, const char* ip, int n) {
  std::vector<ConnectionTicket> tickets;
  for (int i = 0; i < n; ++i) {
    auto admission = gate.admit(make_address(ip));
    EXPECT_TRUE(admission.admitted()) << ip << " #" << i << ": " << to_string(admission.refusal);
    tickets.push_back(std::move(admission.ticket));
  }
  return tickets;
}

TEST(ConnectionGate, UnlimitedAdmitsEverythingAndTracksNoIp) {
  FakeClock fake;
  ConnectionGate gate({}, fake.clock());
  auto tickets = admit_n(gate, "10.0.0.1", 1000);
  EXPECT_EQ(gate.open(), 1000u);
  EXPECT_EQ(gate.tracked_ips(), 0u);
  tickets.clear();
  EXPECT_EQ(gate.open(), 0u);
}

TEST(ConnectionGate, TotalCapRefusesThenRecoversWhenOneCloses) {
  FakeClock fake;
  ConnectionGate gate({.max_connections = 3}, fake.clock());
  auto tickets = admit_n(gate, "10.0.0.1", 2);
  auto more = admit_n(gate, "10.0.0.2", 1);
  auto refused = gate.admit(make_address("10.0.0.3"));
  EXPECT_EQ(refused.refusal, Refusal::kMaxConnections);
  EXPECT_FALSE(refused.ticket);
  EXPECT_EQ(gate.open(), 3u);
  tickets.pop_back();  // a connection dies
  EXPECT_EQ(gate.open(), 2u);
  EXPECT_TRUE(gate.admit(make_address("10.0.0.3")).admitted());
}

TEST(ConnectionGate, PerIpCapCountsEachIpAlone) {
  FakeClock fake;
  ConnectionGate gate({.max_connections_per_ip = 2}, fake.clock());
  auto a = admit_n(gate, "10.0.0.1", 2);
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kMaxConnectionsPerIp);
  auto b = admit_n(gate, "10.0.0.2", 2);  // another IP is unaffected
  EXPECT_EQ(gate.tracked_ips(), 2u);
  a.pop_back();
  auto again = gate.admit(make_address("10.0.0.1"));
  EXPECT_TRUE(again.admitted());
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kMaxConnectionsPerIp);
}

TEST(ConnectionGate, PerIpEntryDroppedWhenItsLastConnectionCloses) {
  FakeClock fake;
  ConnectionGate gate({.max_connections_per_ip = 5}, fake.clock());
  {
    auto tickets = admit_n(gate, "10.0.0.1", 3);
    EXPECT_EQ(gate.tracked_ips(), 1u);
  }
  EXPECT_EQ(gate.tracked_ips(), 0u);
  EXPECT_EQ(gate.open(), 0u);
}

TEST(ConnectionGate, TotalCapRefusalLeavesNoPerIpEntry) {
  FakeClock fake;
  ConnectionGate gate({.max_connections = 1, .max_connections_per_ip = 5}, fake.clock());
  auto held = admit_n(gate, "10.0.0.1", 1);
  for (int i = 0; i < 100; ++i) {
    const std::string ip = "10.1.0." + std::to_string(i);
    EXPECT_EQ(gate.admit(make_address(ip)).refusal, Refusal::kMaxConnections);
  }
  EXPECT_EQ(gate.tracked_ips(), 1u);
}

TEST(ConnectionGate, AcceptRateAllowsTheBurstThenRefillsAtTheRate) {
  FakeClock fake;
  ConnectionGate gate({.accept_rate_per_ip = 2, .accept_burst_per_ip = 5}, fake.clock());
  { auto burst = admit_n(gate, "10.0.0.1", 5); }  // closing does not give tokens back
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kAcceptRate);
  EXPECT_TRUE(gate.admit(make_address("10.0.0.2")).admitted());  // per IP
  fake.now_ms += 499;                                            // 2/s: one token every 500 ms
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kAcceptRate);
  fake.now_ms += 1;
  EXPECT_TRUE(gate.admit(make_address("10.0.0.1")).admitted());
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kAcceptRate);
  // Refused attempts take nothing: a client hammering while refused still
  // gets its next token on time.
  fake.now_ms += 250;
  for (int i = 0; i < 50; ++i) gate.admit(make_address("10.0.0.1"));
  fake.now_ms += 250;
  EXPECT_TRUE(gate.admit(make_address("10.0.0.1")).admitted());
  // Refills cap at the burst.
  fake.now_ms += 60'000;
  auto burst = admit_n(gate, "10.0.0.1", 5);
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kAcceptRate);
}

TEST(ConnectionGate, BurstDefaultsToTheRate) {
  FakeClock fake;
  ConnectionGate gate({.accept_rate_per_ip = 3}, fake.clock());
  auto tickets = admit_n(gate, "10.0.0.1", 3);
  EXPECT_EQ(gate.admit(make_address("10.0.0.1")).refusal, Refusal::kAcceptRate);
}

TEST(ConnectionGate, RateEntriesAreDroppedOnceTheBucketIsFullAgain) {
  FakeClock fake;
  ConnectionGate gate({.accept_rate_per_ip = 10}, fake.clock());
  for (int i = 0; i < 200; ++i) {
    const std::string ip = "10.2." + std::to_string(i / 100) + "." + std::to_string(i % 100);
    gate.admit(make_address(ip));  // admitted and closed at once
  }
  // Each bucket is one token short until 100 ms pass.
  EXPECT_EQ(gate.tracked_ips(), 200u);
  fake.now_ms += 100;
  EXPECT_EQ(gate.tracked_ips(), 200u);  // dropped lazily...
  fake.now_ms += 1000;
  gate.admit(make_address("10.3.0.1"));  // ...by the next admit's sweep
  EXPECT_EQ(gate.tracked_ips(), 1u);
}

TEST(ConnectionGate, IdleEntryDroppedAtReleaseWhenTheBucketIsFull) {
  FakeClock fake;
  ConnectionGate gate({.max_connections_per_ip = 4, .accept_rate_per_ip = 1}, fake.clock());
  auto admission = gate.admit(make_address("10.0.0.1"));
  ASSERT_TRUE(admission.admitted());
  fake.now_ms += 5000;  // refilled while the connection was open
  admission.ticket.release();
  EXPECT_EQ(gate.tracked_ips(), 0u);
}

TEST(ConnectionGate, Ipv6CountsPerSlash64AndMappedV4AsV4) {
  FakeClock fake;
  ConnectionGate gate({.max_connections_per_ip = 1}, fake.clock());
  auto a = gate.admit(make_address("2001:db8:1:2::1"));
  ASSERT_TRUE(a.admitted());
  EXPECT_EQ(gate.admit(make_address("2001:db8:1:2:ffff::9")).refusal,
            Refusal::kMaxConnectionsPerIp);
  EXPECT_TRUE(gate.admit(make_address("2001:db8:1:3::1")).admitted());
  auto v4 = gate.admit(make_address("192.0.2.7"));
  ASSERT_TRUE(v4.admitted());
  EXPECT_EQ(gate.admit(make_address("::ffff:192.0.2.7")).refusal, Refusal::kMaxConnectionsPerIp);
}

TEST(ConnectionGate, TicketMovesReleaseOnce) {
  FakeClock fake;
  ConnectionGate gate({.max_connections = 2, .max_connections_per_ip = 2}, fake.clock());
  auto first = gate.admit(make_address("10.0.0.1"));
  ConnectionTicket moved = std::move(first.ticket);
  EXPECT_FALSE(first.ticket);
  EXPECT_TRUE(moved);
  ConnectionTicket other = gate.admit(make_address("10.0.0.1")).ticket;
  EXPECT_EQ(gate.open(), 2u);
  other = std::move(moved);  // releases what `other` held
  EXPECT_EQ(gate.open(), 1u);
  other.release();
  other.release();
  EXPECT_EQ(gate.open(), 0u);
  EXPECT_EQ(gate.tracked_ips(), 0u);
}

// Accept on one thread, close on others (as the listener and the workers do).
TEST(ConnectionGate, ReleasesFromOtherThreadsKeepCountsExact) {
  ConnectionGate gate({.max_connections = 64, .max_connections_per_ip = 64});
  constexpr int kRounds = 2000;
  std::vector<std::thread> closers;
  std::vector<std::vector<ConnectionTicket>> batches(4);
  for (int round = 0; round < kRounds / 32; ++round) {
    for (auto& batch : batches) {
      for (int i = 0; i < 8; ++i) {
        auto admission = gate.admit(make_address("10.0.0." + std::to_string(i % 3)));
        ASSERT_TRUE(admission.admitted());
        batch.push_back(std::move(admission.ticket));
      }
    }
    for (auto& batch : batches) {
      closers.emplace_back([tickets = std::move(batch)]() mutable { tickets.clear(); });
      batch.clear();
    }
    for (auto& t : closers) t.join();
    closers.clear();
  }
  EXPECT_EQ(gate.open(), 0u);
  EXPECT_EQ(gate.tracked_ips(), 0u);
}

}  // namespace
}  // namespace cascade::net
