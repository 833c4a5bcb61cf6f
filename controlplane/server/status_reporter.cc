#include "controlplane/server/status_reporter.h"

#include <nlohmann/json.hpp>

#include "controlplane/status/status_json.h"

namespace weft::control {

namespace {
constexpr uint64_t kRefreshMs = 1000;
}  // namespace

StatusReporter::StatusReporter(event::Dispatcher& dispatcher, XdsCache& cache,
                               StreamRegistry& registry, std::unique_ptr<kube::StatusWriter> writer)
    : cache_(cache), registry_(registry), writer_(std::move(writer)), timer_(dispatcher, [this] {
        refresh();
        timer_.enableMs(kRefreshMs);
      }) {}

void StatusReporter::start() {
  if (writer_) writer_->start();
  timer_.enableMs(kRefreshMs);
}

void StatusReporter::refresh() {
  auto config = cache_.config();
  if (config == nullptr) return;  // nothing read yet: nothing to say
  auto statuses = status::computeObjectStatuses(*config, registry_.snapshot());
  tracker_.stamp(statuses, status::rfc3339Now());
  latest_ = statuses;
  if (writer_) writer_->submit(std::move(statuses));
}

bool StatusReporter::statusz(const std::string& object, std::string* body) {
  refresh();  // the state as of now, not as of the last tick
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : latest_) {
    if (!object.empty() && s.subject.kind + "/" + s.subject.ns + "/" + s.subject.name != object) {
      continue;
    }
    out.push_back(status::statuszEntry(s));
  }
  if (!object.empty() && out.empty()) return false;
  *body = out.dump(2) + "\n";
  return true;
}

}  // namespace weft::control
