"""Pick routes from OR-Tools' routing solver on the layout's shortest-path distances.

For a floor the exact planner cannot take (many cross-aisles make its state space explode), or as an
independent check of it: the picks and the depot become a travelling-salesman instance over the
walking distances of ``PickGrid.distance_matrix``; the solver starts from the cheapest-arc tour and
improves it with guided local search until the time limit. Distances go to the solver in millimetres
(it wants integers); the returned length is recomputed in metres from the same matrix.
"""

from __future__ import annotations

import itertools

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from edge.floor.layout import PickGrid, Position
from edge.floor.pickpath.route import Route, unique_positions


def ortools_route(grid: PickGrid, points: list[Position], *, time_limit_ms: int = 30) -> Route:
    """A short route (optimal for small orders, good within ``time_limit_ms`` for large ones)."""
    stops = unique_positions(points)
    if len(stops) <= 1:
        length = 2 * grid.depot_distance(stops[0]) if stops else 0.0
        return Route("ortools", tuple(stops), length)
    walk = grid.distance_matrix(stops)
    mm = (walk * 1000).round().astype(int).tolist()
    manager = pywrapcp.RoutingIndexManager(len(mm), 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(mm[manager.IndexToNode(i)][manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, time_limit_ms))
    solution = routing.SolveWithParameters(params)
    if solution is None:  # cannot happen for a TSP without side constraints; keep the input order
        order = list(range(1, len(mm)))
    else:
        order, index = [], routing.Start(0)
        while not routing.IsEnd(index := solution.Value(routing.NextVar(index))):
            order.append(manager.IndexToNode(index))
    tour = [0, *order, 0]
    length = float(sum(walk[a, b] for a, b in itertools.pairwise(tour)))
    return Route("ortools", tuple(stops[i - 1] for i in order), length)
