#pragma once

// /clusters in Envoy's text shape (cluster::host::field::value): breaker
// thresholds, and per host its weight, outlier state and ejection count.

#include <string>

#include "proxy/config/snapshot.h"
#include "proxy/upstream/cluster_runtime.h"

namespace weft::admin {

std::string clustersText(const config::Snapshot& snapshot, const upstream::RuntimeViews& runtime);

}  // namespace weft::admin
