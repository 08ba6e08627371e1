// The route planner: shortest paths between the depot's docks on a fixed
// map, and grid distances between their positions.
#include <climits>
#include <string>
#include <vector>

#include "depot.h"
#include "geometry.h"

namespace {

constexpr int kNodes = 12;

const char *const kDockNames[kNodes] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot",
    "golf", "hotel", "india", "juliet", "kilo", "lima",
};

const Point kDockPositions[kNodes] = {
    {0, 0}, {2, 1}, {4, 0}, {1, 3}, {3, 3}, {5, 2},
    {0, 5}, {2, 6}, {4, 5}, {6, 6}, {1, 8}, {5, 8},
};

struct Edge {
  int from;
  int to;
  int cost;
};

const Edge kEdges[] = {
    {0, 1, 3}, {0, 3, 4}, {1, 2, 3}, {1, 4, 3}, {2, 5, 2}, {3, 4, 2},
    {3, 6, 3}, {4, 5, 3}, {4, 7, 4}, {5, 8, 4}, {6, 7, 2}, {7, 8, 3},
    {8, 9, 2}, {6, 10, 3}, {7, 10, 3}, {10, 11, 5}, {9, 11, 3}, {8, 11, 4},
};

int g_route_queries = 0;

} // namespace

struct Route {
  int cost;
  std::vector<int> path;
};

static std::vector<std::vector<std::pair<int, int>>> adjacency() {
  std::vector<std::vector<std::pair<int, int>>> adj(kNodes);
  for (const Edge &e : kEdges) {
    adj[e.from].push_back({e.to, e.cost});
    adj[e.to].push_back({e.from, e.cost});
  }
  return adj;
}

static Route shortest(int from, int to) {
  ++g_route_queries;
  auto adj = adjacency();
  std::vector<int> dist(kNodes, INT_MAX), prev(kNodes, -1);
  std::vector<bool> done(kNodes, false);
  dist[from] = 0;
  for (int round = 0; round < kNodes; ++round) {
    int best = -1;
    for (int i = 0; i < kNodes; ++i)
      if (!done[i] && dist[i] != INT_MAX && (best < 0 || dist[i] < dist[best]))
        best = i;
    if (best < 0)
      break;
    done[best] = true;
    for (auto [next, cost] : adj[best]) {
      if (dist[best] + cost < dist[next]) {
        dist[next] = dist[best] + cost;
        prev[next] = best;
      }
    }
  }
  Route r{dist[to], {}};
  for (int at = to; at >= 0; at = prev[at])
    r.path.insert(r.path.begin(), at);
  return r;
}

static std::string path_text(const Route &r) {
  std::string s;
  for (int n : r.path)
    s = join(s, kDockNames[n], '>');
  return s;
}

static int nearest_dock(Point p) {
  int best = 0;
  for (int i = 1; i < kNodes; ++i) {
    const Point &q = kDockPositions[i];
    const Point &b = kDockPositions[best];
    if (manhattan(p.x, p.y, q.x, q.y) < manhattan(p.x, p.y, b.x, b.y))
      best = i;
  }
  return best;
}

static int total_grid_length() {
  int total = 0;
  for (const Edge &e : kEdges) {
    const Point &a = kDockPositions[e.from];
    const Point &b = kDockPositions[e.to];
    total += manhattan(a.x, a.y, b.x, b.y);
  }
  return total;
}

void report_routes() {
  Route r = shortest(0, 11);
  probe("routes.cost", fmt("%s->%s: %d", kDockNames[0], kDockNames[11], r.cost));
  probe("routes.path", path_text(r));
  Route back = shortest(9, 3);
  probe("routes.back", fmt("%d via %zu docks", back.cost, back.path.size()));
  Point mid = midpoint(kDockPositions[2], kDockPositions[10]);
  probe("routes.nearest", fmt("(%d,%d) near %s", mid.x, mid.y, kDockNames[nearest_dock(mid)]));
  probe("routes.grid", std::to_string(total_grid_length()));
  probe("routes.queries", g_route_queries == 2 * g_steps ? "in-sync" : "out of sync");
}
