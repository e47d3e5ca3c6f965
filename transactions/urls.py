app_name="transactions"
urlpatterns=[]
