"""Local fakes of the WeChat Pay v3 and Alipay gateways, written from the providers' published API documents."""
