#pragma once

// The answers the proxy's DNS clusters are built from: runtime state that
// outlives every snapshot, like the breakers. Translation asks for a name's
// addresses (lookup): the first time, that starts resolving it and answers
// "not yet" (the cluster warms, as Envoy's DNS clusters do); after that, the
// last good answer. Each name is resolved again at the shortest refresh rate
// of the clusters that name it, or at its answer's TTL when one of them
// respects TTLs (respect_dns_ttl; at least 1 s, and the refresh rate when
// the answer has none). A failed refresh keeps the last good answer and
// tries again after 1 s, doubling while it keeps failing, at most at the
// refresh rate. An answer that changes the addresses calls
// `on_change`, and the server rebuilds its configuration with it. A name the
// configuration in service no longer names is forgotten (retain()).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "proxy/dns/dns_target.h"
#include "proxy/dns/resolver.h"

namespace prometheus {
template <typename T>
class Family;
class Counter;
class Registry;
}  // namespace prometheus

namespace weft::dns {

class DnsCache : public DnsLookup {
 public:
  // `registry` (optional): weft_dns_queries_total{result} and
  // weft_dns_changes_total.
  DnsCache(event::Dispatcher& dispatcher, std::unique_ptr<Resolver> resolver,
           std::function<void()> on_change, prometheus::Registry* registry = nullptr);
  ~DnsCache() override;

  const std::vector<std::string>* lookup(const DnsTarget& target) override;
  // The targets the configuration in service names, with their refresh
  // settings; names not among them stop being refreshed and are dropped.
  void retain(const std::vector<DnsTarget>& in_use);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    DnsTarget target;
    std::vector<std::string> addresses;
    bool resolved = false;
    bool in_flight = false;
    bool failing = false;
    uint64_t failure_backoff_ms = 0;
    std::unique_ptr<event::Timer> refresh;
  };
  static std::string keyOf(const DnsTarget& target);
  Entry& entryFor(const DnsTarget& target);
  void query(const std::string& key);
  void onAnswer(const std::string& key, bool ok, Answer answer, const std::string& error);

  event::Dispatcher& dispatcher_;
  std::unique_ptr<Resolver> resolver_;
  std::function<void()> on_change_;
  std::map<std::string, Entry> entries_;
  prometheus::Family<prometheus::Counter>* queries_ = nullptr;
  prometheus::Counter* succeeded_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* changes_ = nullptr;
};

}  // namespace weft::dns
