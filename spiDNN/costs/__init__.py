"""What the machine costs: the cost table the planner and the clock share, the fabric's timing and the power model."""
