// Picking: STA/LTA characteristic functions, trigger logic and onset re-picking.
