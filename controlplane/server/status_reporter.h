#pragma once

// Keeps the statuses of the objects weft acts on current: once a second it
// recomputes them from the configuration in service and the proxies' sync
// state (ACKs and NACKs arrive on gRPC's threads at any time), stamps their
// transition times, serves them at /debug/statusz and, in Kubernetes mode,
// hands them to the status writer. On the main loop.

#include <memory>
#include <string>
#include <vector>

#include "common/event/dispatcher.h"
#include "controlplane/kube/status_writer.h"
#include "controlplane/status/object_status.h"
#include "controlplane/xds/ads_server.h"
#include "controlplane/xds/cache.h"

namespace weft::control {

class StatusReporter {
 public:
  // `writer`: the Kubernetes status writer, or nullptr (config-dir mode).
  StatusReporter(event::Dispatcher& dispatcher, XdsCache& cache, StreamRegistry& registry,
                 std::unique_ptr<kube::StatusWriter> writer);

  void start();
  // /debug/statusz: every object, or the one `object` names ("KIND/NS/NAME").
  // False when `object` names none.
  bool statusz(const std::string& object, std::string* body);

 private:
  void refresh();

  XdsCache& cache_;
  StreamRegistry& registry_;
  std::unique_ptr<kube::StatusWriter> writer_;
  event::Timer timer_;
  status::StatusTracker tracker_;
  std::vector<status::ObjectStatus> latest_;
};

}  // namespace weft::control
