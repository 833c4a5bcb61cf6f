#pragma once

// Writes weft's status onto the objects it acts on through the status
// subresource (a JSON merge patch of `status`, with the resourceVersion the
// status was computed from: a 409 means the object moved on, and its watch
// event brings the next computation). An object whose status already says
// what weft would write is not written, so a write's own watch event ends
// there. Only the replica holding the status Lease writes (status_lease.h).
// Runs on a thread of its own with the blocking API client; the
// latest submission replaces one not yet written.

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/blocking_client.h"
#include "controlplane/kube/status_lease.h"
#include "controlplane/status/object_status.h"

namespace weft::control::kube {

class StatusWriter {
 public:
  // Writes only while this replica holds `lease`.
  StatusWriter(http::HttpEndpoint server, StatusLease lease);
  ~StatusWriter();

  void start();
  void submit(std::vector<status::ObjectStatus> statuses);

  // The API path of an object's status subresource, or "" for a kind weft
  // does not list.
  static std::string statusPath(const StatusSubject& subject);

 private:
  void loop();
  bool write(const status::ObjectStatus& object, std::string* error);

  http::HttpEndpoint server_;
  StatusLease lease_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool pending_ = false;
  std::vector<status::ObjectStatus> statuses_;
  // Written and not changed since (kind ns/name -> resourceVersion it had):
  // no second write before the watch brings the object back.
  std::map<std::string, std::string> written_;
  std::thread thread_;
};

}  // namespace weft::control::kube
