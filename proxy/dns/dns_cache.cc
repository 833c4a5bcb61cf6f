#include "proxy/dns/dns_cache.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <set>

#include "common/base/logging.h"

namespace weft::dns {

namespace {
constexpr uint64_t kMinTtlRefreshMs = 1000;
constexpr uint64_t kFirstRetryMs = 1000;
}  // namespace

DnsCache::DnsCache(event::Dispatcher& dispatcher, std::unique_ptr<Resolver> resolver,
                   std::function<void()> on_change, prometheus::Registry* registry)
    : dispatcher_(dispatcher), resolver_(std::move(resolver)), on_change_(std::move(on_change)) {
  if (registry != nullptr) {
    queries_ = &prometheus::BuildCounter()
                    .Name("weft_dns_queries_total")
                    .Help("Names the DNS clusters resolved, by outcome")
                    .Register(*registry);
    succeeded_ = &queries_->Add({{"result", "success"}});
    failed_ = &queries_->Add({{"result", "failure"}});
    changes_ = &prometheus::BuildCounter()
                    .Name("weft_dns_changes_total")
                    .Help("DNS answers that changed a cluster's hosts")
                    .Register(*registry)
                    .Add({});
  }
}

// The resolver goes first: its pending callbacks are then never called.
DnsCache::~DnsCache() { resolver_.reset(); }

std::string DnsCache::keyOf(const DnsTarget& target) {
  return target.hostname + "|" + std::to_string(static_cast<int>(target.family));
}

DnsCache::Entry& DnsCache::entryFor(const DnsTarget& target) {
  std::string key = keyOf(target);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  Entry& entry = entries_[key];
  entry.target = target;
  entry.refresh = std::make_unique<event::Timer>(dispatcher_, [this, key] { query(key); });
  query(key);
  return entry;
}

const std::vector<std::string>* DnsCache::lookup(const DnsTarget& target) {
  Entry& entry = entryFor(target);
  return entry.resolved ? &entry.addresses : nullptr;
}

void DnsCache::retain(const std::vector<DnsTarget>& in_use) {
  std::map<std::string, DnsTarget> wanted;
  for (const auto& target : in_use) {
    auto [it, inserted] = wanted.emplace(keyOf(target), target);
    if (!inserted) {  // two clusters, one name: the more eager settings
      it->second.refresh_ms = std::min(it->second.refresh_ms, target.refresh_ms);
      it->second.respect_ttl = it->second.respect_ttl || target.respect_ttl;
    }
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto want = wanted.find(it->first);
    if (want == wanted.end()) {
      it = entries_.erase(it);  // its timer goes with it; a late answer finds no entry
      continue;
    }
    it->second.target = want->second;
    ++it;
  }
  for (const auto& [key, target] : wanted) {
    if (!entries_.count(key)) entryFor(target);
  }
}

void DnsCache::query(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.in_flight) return;
  it->second.in_flight = true;
  resolver_->resolve(it->second.target.hostname, it->second.target.family,
                     [this, key](bool ok, Answer answer, const std::string& error) {
                       onAnswer(key, ok, std::move(answer), error);
                     });
}

void DnsCache::onAnswer(const std::string& key, bool ok, Answer answer, const std::string& error) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;  // dropped while the query was out
  Entry& entry = it->second;
  entry.in_flight = false;
  uint64_t next_ms = entry.target.refresh_ms;
  bool changed = false;
  if (ok) {
    if (succeeded_ != nullptr) succeeded_->Increment();
    if (entry.target.respect_ttl && answer.ttl_s > 0) {
      next_ms = std::max<uint64_t>(uint64_t{answer.ttl_s} * 1000, kMinTtlRefreshMs);
    }
    changed = !entry.resolved || entry.addresses != answer.addresses;
    entry.addresses = std::move(answer.addresses);
    entry.resolved = true;
  } else {
    if (failed_ != nullptr) failed_->Increment();
    // The last good answer keeps serving. Asked again sooner than the
    // refresh rate: 1 s, doubling while it keeps failing, up to the rate
    // (so a name that failed at start-up does not wait a whole refresh).
    entry.failure_backoff_ms = entry.failing ? entry.failure_backoff_ms * 2 : kFirstRetryMs;
    next_ms = std::min(next_ms, entry.failure_backoff_ms);
    // Logged once per outage.
    if (!entry.failing) {
      LOG_WARN("dns: resolving %s: %s%s", entry.target.hostname.c_str(), error.c_str(),
               entry.resolved ? " (keeping the last answer)" : "");
    }
  }
  entry.failing = !ok;
  entry.refresh->enableMs(next_ms);
  if (changed) {
    if (changes_ != nullptr) changes_->Increment();
    on_change_();
  }
}

}  // namespace weft::dns
