"""The planner: state machine, nodes, chat models, budgets."""
