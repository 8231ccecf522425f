"""Planning for the whole network: pure decision cores, no I/O.

Each module is a function (or a small class) of its inputs: the network as data (``network``), daily
demand series (``demand``), their Syntetos-Boylan class (``classify``), the holiday and promotion
calendar (``calendar``) and the uplift factors learnt from it (``uplift``), weekly profiles
(``seasonality``), forecasts with statsforecast chosen per series by a rolling-origin backtest
(``forecast``, run in-process or on Dask by ``engine``), safety stock and reorder points
(``safety_stock``), rebalancing transfers by min-cost flow (``rebalance``) and anomaly scores
(``anomaly``). ``synthetic`` generates a seeded multi-warehouse history for tests and benchmarks.
The runners that read the cloud's database and write recommendations sit on top of these.
"""
