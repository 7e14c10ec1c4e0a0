"""What is computed: the images and their colour categories, the networks, their shapes and costs, and the scores."""
