"""The poverty index (城市家庭贫困指数模型): one file per dimension, the weighted index and
the temporary-assistance table (see docs/subsystems/targeting.md). Not a programme."""
